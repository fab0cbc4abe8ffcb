//! The Ethernet link of a port whose device carries frames (an AF_XDP port: a veth
//! whose other end is the instance's, or an internet host's, interface), in front of
//! the pipeline, which sees IPv4 packets only, as from a TUN port.
//!
//! AWS's VPC has no broadcast domain: the hypervisor answers every ARP request an
//! instance sends, so every on-link address resolves: the subnet router at base+1,
//! other instances of the subnet, and on an internet host every destination, since its
//! default route is on-link. vpcd does the same: [`ingress`] answers every ARP
//! *request* with [`ROUTER_MAC`], whatever the target, and the pipeline then decides
//! what happens to the packets sent there as on TUN ports (an address no ENI has is
//! dropped there as `no-such-host`). It never answers an ARP probe (sender address
//! 0.0.0.0, RFC 5227) or an announcement (gratuitous ARP: target address = sender
//! address), so an instance never believes its own address is taken; nor replies, nor
//! ARP for anything but Ethernet and IPv4 (`arp-ignored`). IPv6 is dropped as on TUN
//! ports (`ipv6-not-enabled`), any other EtherType as `frame-not-ip`.
//!
//! Every packet written to a port gets [`egress_header`]: from [`ROUTER_MAC`] to the
//! port's own MAC ([`port_mac`], the one the daemon gives the far end of the veth), so
//! the instance's kernel accepts it whatever it has resolved.
//!
//! Nothing is allocated; the reply is written into the request's buffer.

use crate::verdict::{DropReason, Port};
use crate::wire::arp;
use crate::wire::ethernet::{self, Frame, HEADER_LEN, Mac};

/// The MAC of the router (vpcd) on every port: locally administered, unicast.
pub const ROUTER_MAC: Mac = [0x02, 0x76, 0x70, 0x63, 0x64, 0x01];

/// The MAC the daemon gives a port's far end (the instance's or internet host's
/// interface): ENI `e` is `02:76:70:00:hi:lo` and host `h` is `02:76:70:01:hi:lo`, with
/// `hi:lo` the index as a 16-bit big-endian number. Past 65,536 ENIs or hosts the upper
/// bits of the index are dropped and MACs repeat; that is harmless, since each veth is
/// a link of its own, but a capture then shows two ports with one MAC.
pub fn port_mac(port: Port) -> Mac {
    let (kind, index) = match port {
        Port::Eni(e) => (0x00, e.index()),
        Port::Host(h) => (0x01, h.index()),
        Port::Services => (0x02, 0),
    };
    let [hi, lo] = (index as u16).to_be_bytes();
    [0x02, 0x76, 0x70, kind, hi, lo]
}

/// What to do with a frame read from a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingress {
    /// An IPv4 packet: hand `frame[HEADER_LEN..]` to the pipeline, which checks it.
    Ipv4,
    /// The frame now holds the ARP reply in its first `len` bytes: write those back to
    /// the port it came from.
    ArpReply {
        /// The reply's length ([`HEADER_LEN`] + [`arp::LEN`]).
        len: usize,
    },
    /// Discard the frame.
    Drop(DropReason),
}

/// Decides what a frame read from a port is, and turns an ARP request vpcd answers
/// into its reply in place. Count the outcome with [`crate::Counters::record_link`].
pub fn ingress(frame: &mut [u8]) -> Ingress {
    let Some(eth) = Frame::new_checked(frame) else {
        return Ingress::Drop(DropReason::FrameTruncated);
    };
    match eth.ethertype() {
        ethernet::ETHERTYPE_IPV4 => Ingress::Ipv4,
        ethernet::ETHERTYPE_IPV6 => Ingress::Drop(DropReason::Ipv6NotEnabled),
        ethernet::ETHERTYPE_ARP => answer(eth),
        _ => Ingress::Drop(DropReason::FrameNotIp),
    }
}

/// Turns the ARP request in `eth` into the reply from [`ROUTER_MAC`]; anything else
/// is left as it is and ignored.
fn answer(mut eth: Frame<&mut [u8]>) -> Ingress {
    let requester = eth.src();
    let Some(mut m) = arp::Message::new_checked(eth.payload_mut()) else {
        return Ingress::Drop(DropReason::ArpIgnored);
    };
    let (sender_mac, sender_ip, target_ip) = (m.sender_mac(), m.sender_ip(), m.target_ip());
    if m.operation() != arp::OP_REQUEST || sender_ip.is_unspecified() || target_ip == sender_ip {
        return Ingress::Drop(DropReason::ArpIgnored);
    }
    m.set_operation(arp::OP_REPLY);
    m.set_sender_mac(ROUTER_MAC);
    m.set_sender_ip(target_ip);
    m.set_target_mac(sender_mac);
    m.set_target_ip(sender_ip);
    eth.set_dst(requester);
    eth.set_src(ROUTER_MAC);
    Ingress::ArpReply {
        len: HEADER_LEN + arp::LEN,
    }
}

/// The Ethernet header of every packet written to port `to`: from [`ROUTER_MAC`] to
/// [`port_mac`]`(to)`, IPv4.
pub fn egress_header(to: Port) -> [u8; HEADER_LEN] {
    ethernet::header(port_mac(to), ROUTER_MAC, ethernet::ETHERTYPE_IPV4)
}

#[cfg(test)]
mod tests {
    use vpc_config::{EniId, HostId};

    use super::*;

    /// 10.0.1.10 (02:76:70:00:00:00) asks who has 10.0.1.1 (its subnet router), padded
    /// to the minimum frame size as a NIC would.
    const REQUEST: [u8; 60] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x76, 0x70, 0x00, 0x00, 0x00, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // Ethernet, IPv4, 6, 4, request
        0x02, 0x76, 0x70, 0x00, 0x00, 0x00, 10, 0, 1, 10, // sender
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 1, 1, // target
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // padding
    ];
    /// The reply: 10.0.1.1 is at 02:76:70:63:64:01.
    const REPLY: [u8; 42] = [
        0x02, 0x76, 0x70, 0x00, 0x00, 0x00, 0x02, 0x76, 0x70, 0x63, 0x64, 0x01, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, // Ethernet, IPv4, 6, 4, reply
        0x02, 0x76, 0x70, 0x63, 0x64, 0x01, 10, 0, 1, 1, // sender: the router
        0x02, 0x76, 0x70, 0x00, 0x00, 0x00, 10, 0, 1, 10, // target: the requester
    ];
    /// Where the ARP message starts, and its sender and target protocol addresses.
    const ARP: usize = 14;
    const SPA: usize = ARP + arp::field::SPA;
    const TPA: usize = ARP + arp::field::TPA;

    #[test]
    fn a_request_becomes_the_routers_reply_in_place() {
        let mut f = REQUEST;
        assert_eq!(ingress(&mut f), Ingress::ArpReply { len: 42 });
        assert_eq!(f[..42], REPLY);
        assert_eq!(f[42..], [0; 18]);
    }

    #[test]
    fn any_target_is_answered_unpadded_requests_too() {
        // Another instance, and (from an internet host) an address on the internet.
        for target in [[10, 0, 1, 20], [8, 8, 8, 8]] {
            let mut f = [0; 42];
            f.copy_from_slice(&REQUEST[..42]);
            f[TPA..TPA + 4].copy_from_slice(&target);
            assert_eq!(ingress(&mut f), Ingress::ArpReply { len: 42 });
            let mut want = REPLY;
            want[SPA..SPA + 4].copy_from_slice(&target);
            assert_eq!(f, want, "{target:?}");
        }
    }

    fn ignored(mut f: Vec<u8>) {
        let before = f.clone();
        assert_eq!(ingress(&mut f), Ingress::Drop(DropReason::ArpIgnored));
        assert_eq!(f, before);
    }

    #[test]
    fn probes_announcements_replies_and_other_arp_are_ignored_untouched() {
        // A probe (RFC 5227): sender 0.0.0.0, asking for the address it wants.
        let mut probe = REQUEST.to_vec();
        probe[SPA..SPA + 4].copy_from_slice(&[0, 0, 0, 0]);
        probe[TPA..TPA + 4].copy_from_slice(&[10, 0, 1, 10]);
        ignored(probe);
        // An announcement (gratuitous ARP): target = sender.
        let mut announcement = REQUEST.to_vec();
        announcement[TPA..TPA + 4].copy_from_slice(&[10, 0, 1, 10]);
        ignored(announcement);
        // A reply (operation 2).
        let mut reply = REQUEST.to_vec();
        reply[ARP + arp::field::OPER + 1] = 2;
        ignored(reply);
        // Cut short: a header and 27 bytes of message.
        ignored(REQUEST[..41].to_vec());
        // Hardware type 6 (IEEE 802), not Ethernet.
        let mut ieee = REQUEST.to_vec();
        ieee[ARP + 1] = 6;
        ignored(ieee);
    }

    #[test]
    fn frames_other_than_ipv4_and_arp_are_dropped() {
        let mut short = [0xffu8; 13];
        assert_eq!(
            ingress(&mut short),
            Ingress::Drop(DropReason::FrameTruncated)
        );
        let mut f = REQUEST;
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(ingress(&mut f), Ingress::Drop(DropReason::Ipv6NotEnabled));
        f[12..14].copy_from_slice(&[0x88, 0xcc]); // LLDP
        assert_eq!(ingress(&mut f), Ingress::Drop(DropReason::FrameNotIp));
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(ingress(&mut f), Ingress::Ipv4);
        // A bare header of IPv4: the pipeline drops the empty packet as truncated.
        assert_eq!(ingress(&mut f[..14]), Ingress::Ipv4);
    }

    #[test]
    fn port_macs_and_the_egress_header() {
        assert_eq!(
            port_mac(Port::Eni(EniId(0x0102))),
            [0x02, 0x76, 0x70, 0x00, 0x01, 0x02]
        );
        assert_eq!(
            port_mac(Port::Host(HostId(3))),
            [0x02, 0x76, 0x70, 0x01, 0x00, 0x03]
        );
        // Past 65,535 the upper bits are dropped.
        assert_eq!(
            port_mac(Port::Eni(EniId(0x1_0007))),
            [0x02, 0x76, 0x70, 0x00, 0x00, 0x07]
        );
        assert_eq!(
            egress_header(Port::Eni(EniId(0x0102))),
            [
                0x02, 0x76, 0x70, 0x00, 0x01, 0x02, 0x02, 0x76, 0x70, 0x63, 0x64, 0x01, 0x08, 0x00
            ]
        );
    }
}
