//! What security-group rules and network-ACL entries share: matching a packet's
//! protocol, destination port or ICMP type/code. AWS matches a rule's port range
//! against the packet's destination port in both directions, and ICMP rules against
//! type and code (-1, here `None`, matching any).

use vpc_config::{L4Match, Protocol};

use crate::l4::Facts;

/// Whether a rule with `protocol` and `l4` matches the packet.
pub(crate) fn matches(protocol: Protocol, l4: L4Match, f: &Facts) -> bool {
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
