//! What security-group rules and network-ACL entries share: matching a packet's
//! protocol, destination port or ICMP type/code, and a peer prefix. AWS matches a
//! rule's port range against the packet's destination port in both directions, and ICMP
//! rules against type and code (-1, here `None`, matching any).
//!
//! Rules are compiled once per configuration into [`Matcher`]s (the prefix as an address
//! and mask, the protocol and ports as plain integers) and a packet is reduced once per
//! evaluation to a [`Probe`], so judging one rule is a handful of integer comparisons:
//! security groups evaluate up to 5 x 60 rules per side on a flow's first packet, and
//! network ACLs up to 20 entries per direction on every packet.

use ipnet::Ipv4Net;
use vpc_config::{L4Match, Protocol};

use crate::l4::Facts;

/// Whether a rule with `protocol` and `l4` matches the packet (the reference the
/// compiled [`Matcher`] is tested against).
#[cfg(test)]
fn matches(protocol: Protocol, l4: L4Match, f: &Facts) -> bool {
    if !protocol.matches(f.tuple.proto) {
        return false;
    }
    match l4 {
        L4Match::Any => true,
        L4Match::Ports(range) => {
            matches!(f.tuple.proto, 6 | 17) && range.contains(f.tuple.dst_port)
        }
        L4Match::Icmp { icmp_type, code } => match f.icmp_type_code() {
            Some((t, c)) => icmp_type.is_none_or(|x| x == t) && code.is_none_or(|x| x == c),
            None => false,
        },
    }
}

/// A value that matches anything in [`Matcher`]'s protocol, type and code fields.
const ANY: u16 = 0x100;
/// A packet that is not ICMP, in [`Probe`]'s type and code.
const NOT_ICMP: u16 = 0x200;
/// Any type (code) of an ICMP message, in [`Matcher`]'s type and code fields.
const ANY_ICMP: u16 = 0x300;

/// What rules look at in a packet, taken once per evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probe {
    proto: u16,
    /// The destination port, or `u32::MAX` for a packet without ports (never in a range).
    port: u32,
    icmp_type: u16,
    icmp_code: u16,
}

impl Probe {
    /// The probe of packet `f`.
    pub fn of(f: &Facts) -> Probe {
        let port = if matches!(f.tuple.proto, 6 | 17) {
            u32::from(f.tuple.dst_port)
        } else {
            u32::MAX
        };
        let (icmp_type, icmp_code) = f
            .icmp_type_code()
            .map_or((NOT_ICMP, NOT_ICMP), |(t, c)| (u16::from(t), u16::from(c)));
        Probe {
            proto: u16::from(f.tuple.proto),
            port,
            icmp_type,
            icmp_code,
        }
    }
}

/// One rule's match, compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Matcher {
    net: u32,
    mask: u32,
    /// Protocol number, or [`ANY`].
    proto: u16,
    /// Destination ports `lo..=hi` (`0..=u32::MAX` when the rule names none, so that a
    /// packet without ports matches too).
    lo: u32,
    hi: u32,
    /// ICMP type and code, [`ANY_ICMP`] (AWS's -1), or [`ANY`] when the rule names
    /// none.
    icmp_type: u16,
    icmp_code: u16,
}

impl Matcher {
    /// A rule for peers in `cidr` with `protocol` and `l4`.
    pub fn new(cidr: Ipv4Net, protocol: Protocol, l4: L4Match) -> Matcher {
        let proto = match protocol {
            Protocol::All => ANY,
            Protocol::Number(n) => u16::from(n),
        };
        let (lo, hi, icmp_type, icmp_code) = match l4 {
            L4Match::Any => (0, u32::MAX, ANY, ANY),
            L4Match::Ports(r) => (u32::from(r.from), u32::from(r.to), ANY, ANY),
            L4Match::Icmp { icmp_type, code } => {
                let byte = |b: Option<u8>| b.map_or(ANY_ICMP, u16::from);
                (0, u32::MAX, byte(icmp_type), byte(code))
            }
        };
        let mask = u32::from(cidr.netmask());
        Matcher {
            net: u32::from(cidr.network()) & mask,
            mask,
            proto,
            lo,
            hi,
            icmp_type,
            icmp_code,
        }
    }

    /// Whether the rule's protocol, ports and ICMP type/code match `p`.
    /// Without branches (`&`, `|` rather than `&&`, `||`): rule lists mix protocols and
    /// ports, so a branch per field would be mispredicted half the time.
    #[inline]
    pub fn matches_l4(&self, p: &Probe) -> bool {
        let field = |rule: u16, packet: u16| {
            (rule == ANY) | (rule == packet) | ((rule == ANY_ICMP) & (packet != NOT_ICMP))
        };
        field(self.proto, p.proto)
            & (self.lo <= p.port)
            & (p.port <= self.hi)
            & field(self.icmp_type, p.icmp_type)
            & field(self.icmp_code, p.icmp_code)
    }

    /// Whether `peer` is in the rule's prefix.
    #[inline]
    pub fn matches_peer(&self, peer: u32) -> bool {
        peer & self.mask == self.net
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l4::{L4, TcpFacts, Tuple};
    use crate::offload::Shape;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;
    use vpc_config::PortRange;

    fn facts(proto: u8, dst_port: u16, l4: L4) -> Facts {
        Facts {
            tuple: Tuple {
                proto,
                src: Ipv4Addr::new(10, 0, 1, 10),
                dst: Ipv4Addr::new(10, 0, 2, 10),
                src_port: 40000,
                dst_port,
            },
            l4,
            len: 60,
            packets: 1,
            shape: Shape::PLAIN,
        }
    }

    fn packet() -> impl Strategy<Value = Facts> {
        let tcp = TcpFacts {
            flags: 2,
            seq: 1,
            ack: 0,
            window: 100,
            payload_len: 0,
            wscale: None,
        };
        prop_oneof![
            any::<u16>().prop_map(move |p| facts(6, p, L4::Tcp(tcp))),
            any::<u16>().prop_map(|p| facts(17, p, L4::Udp)),
            (any::<bool>(), any::<u16>()).prop_map(|(request, id)| facts(
                1,
                id,
                L4::IcmpEcho { request, id }
            )),
            (0u8..20, 0u8..5).prop_map(|(icmp_type, code)| facts(
                1,
                0,
                L4::IcmpOther { icmp_type, code }
            )),
            (0u8..255).prop_map(|p| facts(p, 0, L4::Other)),
        ]
    }

    fn rule() -> impl Strategy<Value = (Protocol, L4Match)> {
        let ports = (any::<u16>(), any::<u16>()).prop_map(|(a, b)| {
            L4Match::Ports(PortRange {
                from: a.min(b),
                to: a.max(b),
            })
        });
        let icmp = (proptest::option::of(0u8..20), proptest::option::of(0u8..5))
            .prop_map(|(icmp_type, code)| L4Match::Icmp { icmp_type, code });
        prop_oneof![
            Just((Protocol::All, L4Match::Any)),
            (0u8..255).prop_map(|p| (Protocol::Number(p), L4Match::Any)),
            ports.clone().prop_map(|l4| (Protocol::TCP, l4)),
            ports.prop_map(|l4| (Protocol::UDP, l4)),
            icmp.prop_map(|l4| (Protocol::ICMP, l4)),
        ]
    }

    #[test]
    fn icmp_rules_want_icmp_and_port_rules_want_ports() {
        let echo = facts(
            1,
            7,
            L4::IcmpEcho {
                request: true,
                id: 7,
            },
        );
        let udp = facts(17, 53, L4::Udp);
        let any_icmp = L4Match::Icmp {
            icmp_type: None,
            code: None,
        };
        let net: Ipv4Net = "0.0.0.0/0".parse().unwrap();
        let m = Matcher::new(net, Protocol::All, any_icmp);
        assert!(m.matches_l4(&Probe::of(&echo)));
        assert!(
            !m.matches_l4(&Probe::of(&udp)),
            "ICMP -1/-1 is not every packet"
        );
        let dns = L4Match::Ports(PortRange { from: 53, to: 53 });
        let m = Matcher::new(net, Protocol::All, dns);
        assert!(m.matches_l4(&Probe::of(&udp)));
        assert!(!m.matches_l4(&Probe::of(&echo)));
        let m = Matcher::new("10.0.2.0/24".parse().unwrap(), Protocol::All, L4Match::Any);
        assert!(m.matches_peer(u32::from(Ipv4Addr::new(10, 0, 2, 99))));
        assert!(!m.matches_peer(u32::from(Ipv4Addr::new(10, 0, 3, 1))));
    }

    proptest! {
        /// The compiled matcher agrees with the reference [`matches`] and with
        /// `Ipv4Net::contains`.
        #[test]
        fn compiled_agrees_with_the_reference(
            (protocol, l4) in rule(),
            f in packet(),
            addr in any::<u32>(),
            len in 0u8..=32,
            peer in any::<u32>(),
        ) {
            let net = Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().trunc();
            let m = Matcher::new(net, protocol, l4);
            prop_assert_eq!(m.matches_l4(&Probe::of(&f)), matches(protocol, l4, &f));
            prop_assert_eq!(m.matches_peer(peer), net.contains(&Ipv4Addr::from(peer)));
        }
    }
}
