//! Stages `nacl outbound` and `nacl inbound`: network ACLs (AWS: vpc-network-acls).
//!
//! Stateless: every packet is judged alone, replies included. Rules are numbered
//! 1..32766 and kept sorted; the lowest-numbered rule that matches decides (allow or
//! deny), and a packet no rule matches is denied by the implicit `*` rule. Outbound
//! rules match the destination address, inbound rules the source. A NACL applies only
//! where traffic leaves or enters a subnet: the pipeline skips it between two ENIs of
//! one subnet.

use std::net::Ipv4Addr;

use vpc_config::{NaclRule, NetworkAclId, RuleAction, Topology};

use crate::flowlog::Direction;
use crate::l4::Facts;
use crate::rule::{Matcher, Probe};

/// The entry that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NaclDecision {
    /// The rule number, or `None` for the implicit final `*` rule.
    pub rule: Option<u16>,
    /// Allow or deny.
    pub action: RuleAction,
}

/// One entry, compiled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    matcher: Matcher,
    number: u16,
    action: RuleAction,
}

/// The entries of `rules` (sorted by number), compiled, in the same order.
pub(crate) fn compile(rules: &[NaclRule]) -> Vec<Entry> {
    rules
        .iter()
        .map(|r| Entry {
            matcher: Matcher::new(r.cidr, r.protocol, r.l4),
            number: r.number,
            action: r.action,
        })
        .collect()
}

/// Every network ACL of a topology, compiled: by ACL, its inbound then outbound entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Nacls {
    acls: Vec<[Vec<Entry>; 2]>,
}

impl Nacls {
    /// The network ACLs of `t`.
    pub fn compile(t: &Topology) -> Nacls {
        let acls = t
            .network_acls
            .iter()
            .map(|a| [compile(&a.ingress), compile(&a.egress)])
            .collect();
        Nacls { acls }
    }

    /// The entries of ACL `acl` for `direction`.
    pub fn entries(&self, acl: NetworkAclId, direction: Direction) -> &[Entry] {
        let i = match direction {
            Direction::Ingress => 0,
            Direction::Egress => 1,
        };
        &self.acls[acl.index()][i]
    }
}

/// Evaluates `entries` (sorted by number) for a packet whose remote address (source for
/// inbound, destination for outbound) is `peer`.
pub(crate) fn evaluate(entries: &[Entry], peer: Ipv4Addr, f: &Facts) -> NaclDecision {
    let probe = Probe::of(f);
    let peer = u32::from(peer);
    entries
        .iter()
        .find(|e| e.matcher.matches_peer(peer) & e.matcher.matches_l4(&probe))
        .map_or(
            NaclDecision {
                rule: None,
                action: RuleAction::Deny,
            },
            |e| NaclDecision {
                rule: Some(e.number),
                action: e.action,
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l4::{L4, Tuple};
    use ipnet::Ipv4Net;
    use proptest::prelude::*;
    use vpc_config::{L4Match, PortRange, Protocol};

    fn udp_to(src: Ipv4Addr, port: u16) -> Facts {
        Facts {
            tuple: Tuple {
                proto: 17,
                src,
                dst: Ipv4Addr::new(10, 0, 0, 9),
                src_port: 40000,
                dst_port: port,
            },
            l4: L4::Udp,
            len: 40,
            packets: 1,
            shape: crate::offload::Shape::PLAIN,
        }
    }

    fn eval(rules: &[NaclRule], peer: Ipv4Addr, f: &Facts) -> NaclDecision {
        evaluate(&compile(rules), peer, f)
    }

    fn rule(number: u16, cidr: &str, action: RuleAction, l4: L4Match) -> NaclRule {
        NaclRule {
            number,
            protocol: if l4 == L4Match::Any {
                Protocol::All
            } else {
                Protocol::UDP
            },
            l4,
            cidr: cidr.parse().unwrap(),
            action,
        }
    }

    #[test]
    fn the_lowest_matching_number_wins_then_the_implicit_deny() {
        let rules = [
            rule(100, "10.0.1.0/24", RuleAction::Deny, L4Match::Any),
            rule(200, "0.0.0.0/0", RuleAction::Allow, L4Match::Any),
        ];
        let from = |a| udp_to(Ipv4Addr::new(10, 0, a, 5), 53);
        assert_eq!(
            eval(&rules, Ipv4Addr::new(10, 0, 1, 5), &from(1)),
            NaclDecision {
                rule: Some(100),
                action: RuleAction::Deny
            }
        );
        assert_eq!(
            eval(&rules, Ipv4Addr::new(10, 0, 2, 5), &from(2)),
            NaclDecision {
                rule: Some(200),
                action: RuleAction::Allow
            }
        );
        // A custom NACL without rules denies everything with `*`.
        assert_eq!(
            eval(&[], Ipv4Addr::new(10, 0, 2, 5), &from(2)),
            NaclDecision {
                rule: None,
                action: RuleAction::Deny
            }
        );
        // Ports: the destination port.
        let ports = [rule(
            10,
            "0.0.0.0/0",
            RuleAction::Allow,
            L4Match::Ports(PortRange {
                from: 1024,
                to: 65535,
            }),
        )];
        let peer = Ipv4Addr::new(1, 2, 3, 4);
        assert_eq!(eval(&ports, peer, &udp_to(peer, 1023)).rule, None);
        assert_eq!(eval(&ports, peer, &udp_to(peer, 1024)).rule, Some(10));
    }

    proptest! {
        /// Against a naive model: sort the rules by number, take the first that matches.
        #[test]
        fn agrees_with_sorting_and_first_match(
            raw in proptest::collection::vec(
                (1u16..=32766, 0u32..4, 0u8..=32, any::<bool>(), 0u16..3, 0u16..2000, 0u16..2000),
                0..12,
            ),
            src in 0u32..4,
            port in 0u16..2000,
        ) {
            let mut seen = std::collections::HashSet::new();
            let mut rules: Vec<NaclRule> = raw
                .into_iter()
                .filter(|(n, ..)| seen.insert(*n))
                .map(|(number, net, len, allow, proto, a, b)| {
                    let cidr = Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 | (net << 8)), len)
                        .unwrap()
                        .trunc();
                    let protocol = [Protocol::All, Protocol::UDP, Protocol::TCP][proto as usize];
                    let l4 = if protocol == Protocol::All {
                        L4Match::Any
                    } else {
                        L4Match::Ports(PortRange { from: a.min(b), to: a.max(b) })
                    };
                    let action = if allow { RuleAction::Allow } else { RuleAction::Deny };
                    NaclRule { number, protocol, l4, cidr, action }
                })
                .collect();
            let peer = Ipv4Addr::from(0x0a00_0005 | (src << 8));
            let f = udp_to(peer, port);
            let mut sorted = rules.clone();
            sorted.sort_by_key(|r| r.number);
            let naive = sorted.iter().find(|r| {
                let proto_ok = r.protocol == Protocol::All || r.protocol == Protocol::UDP;
                let port_ok = match r.l4 {
                    L4Match::Ports(p) => p.from <= port && port <= p.to,
                    _ => true,
                };
                r.cidr.contains(&peer) && proto_ok && port_ok
            });
            rules.sort_by_key(|r| r.number);
            let got = eval(&rules, peer, &f);
            prop_assert_eq!(got.rule, naive.map(|r| r.number));
            prop_assert_eq!(got.action, naive.map_or(RuleAction::Deny, |r| r.action));
        }
    }
}
