//! Stages `sg egress` and `sg ingress`: security groups (AWS: security-group-rules,
//! security-group-connection-tracking), compiled per ENI.
//!
//! - Allow rules only. The rules of every group on an ENI are unioned; order does not
//!   matter for the verdict (the first match in group-then-rule order is the one a
//!   trace names).
//! - A rule's peer is a CIDR or a security group of the VPC, which matches the private
//!   IPs of that group's members (never public addresses).
//! - Egress rules match the destination address, ingress rules the source; ports are
//!   the destination port in both directions.
//! - Tracking: ICMP and protocols other than TCP and UDP are always tracked. A TCP or
//!   UDP flow is NOT tracked when a rule allowing it has peer 0.0.0.0/0 and the opposite
//!   direction has a 0.0.0.0/0 rule for that protocol (or all protocols) on all ports;
//!   such a flow's replies are judged by the rules. Tracked flows' later packets never
//!   reach the rules (connection tracking decides them first).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use rustc_hash::FxHashSet;
use vpc_config::{EniId, L4Match, Protocol, SecurityGroupId, SgPeer, Topology};

use crate::flowlog::Direction;
use crate::l4::Facts;
use crate::rule::{Matcher, Probe};

/// A rule of a group, by position: `group`'s `index`-th ingress or egress rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleRef {
    /// The group.
    pub group: SecurityGroupId,
    /// Index in the group's rule list of that direction.
    pub index: usize,
}

/// What the rules say about a packet that no tracked flow covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SgDecision {
    /// Allowed by `rule`; `tracked` says whether its flow is tracked.
    Allowed {
        /// The first rule that allows it.
        rule: RuleRef,
        /// Whether the flow is tracked (false: untracked, see the module doc).
        tracked: bool,
    },
    /// No rule allows it.
    Denied,
}

/// A rule, compiled (`rule::Matcher`).
#[derive(Debug, Clone, Copy)]
struct Compiled {
    /// Protocol, ports or ICMP type/code, and for a CIDR peer its prefix.
    matcher: Matcher,
    /// A security-group peer (the matcher's prefix is then unused).
    group: Option<SecurityGroupId>,
    /// The peer is 0.0.0.0/0.
    everywhere: bool,
    origin: RuleRef,
}

/// One direction of one ENI: its groups' rules, and whether the direction is open to
/// 0.0.0.0/0 on all ports for TCP and for UDP (what untracked flows need).
#[derive(Debug, Clone, Default)]
struct Side {
    /// The rules, in the order of the ENI's groups and of each group's rules, split by
    /// the protocol of the packets they can match ([`proto_index`]): a packet is
    /// judged only against the rules of its protocol and those of every protocol.
    by_proto: [Vec<Compiled>; 4],
    open_tcp: bool,
    open_udp: bool,
}

/// Which of a side's rule lists packets of protocol `proto` are judged against: TCP,
/// UDP, ICMP, any other.
fn proto_index(proto: u8) -> usize {
    match proto {
        6 => 0,
        17 => 1,
        1 => 2,
        _ => 3,
    }
}

impl Side {
    /// Adds a rule of `protocol` to the lists of the packets it can match.
    fn push(&mut self, protocol: Protocol, rule: Compiled) {
        match protocol {
            Protocol::All => self.by_proto.iter_mut().for_each(|l| l.push(rule)),
            Protocol::Number(p) => self.by_proto[proto_index(p)].push(rule),
        }
    }

    fn open_to_all(&self, proto: u8) -> bool {
        match proto {
            6 => self.open_tcp,
            17 => self.open_udp,
            _ => false,
        }
    }
}

/// Every ENI's compiled security groups.
#[derive(Debug, Clone, Default)]
pub(crate) struct SecurityGroups {
    /// Per ENI: [ingress, egress].
    enis: Vec<[Side; 2]>,
    /// (group, private IP) of every member ENI.
    members: FxHashSet<(SecurityGroupId, Ipv4Addr)>,
}

fn side_index(d: Direction) -> usize {
    match d {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

impl SecurityGroups {
    pub fn compile(t: &Topology) -> SecurityGroups {
        let mut members = FxHashSet::default();
        for e in &t.enis {
            for &g in &e.security_groups {
                members.insert((g, e.private_ip));
            }
        }
        let enis = t
            .enis
            .iter()
            .map(|e| {
                let mut sides: [Side; 2] = Default::default();
                for &g in &e.security_groups {
                    let group = t.security_group(g);
                    for (d, rules) in [
                        (Direction::Ingress, &group.ingress),
                        (Direction::Egress, &group.egress),
                    ] {
                        let side = &mut sides[side_index(d)];
                        for (index, r) in rules.iter().enumerate() {
                            let everywhere = r.peer == SgPeer::Cidr(Ipv4Net::default());
                            let origin = RuleRef { group: g, index };
                            let (cidr, group) = match r.peer {
                                SgPeer::Cidr(net) => (net, None),
                                SgPeer::Group(peer) => (Ipv4Net::default(), Some(peer)),
                                // A prefix list: one compiled rule per block.
                                SgPeer::PrefixList(s) => {
                                    for &net in &t.aws_service(s).cidrs {
                                        let rule = Compiled {
                                            matcher: Matcher::new(net, r.protocol, r.l4),
                                            group: None,
                                            everywhere: false,
                                            origin,
                                        };
                                        side.push(r.protocol, rule);
                                    }
                                    continue;
                                }
                            };
                            let rule = Compiled {
                                matcher: Matcher::new(cidr, r.protocol, r.l4),
                                group,
                                everywhere,
                                origin,
                            };
                            side.push(r.protocol, rule);
                            let all_ports = matches!(r.l4, L4Match::Any)
                                || r.l4 == L4Match::Ports(vpc_config::PortRange::ALL);
                            if everywhere && all_ports {
                                side.open_tcp |= r.protocol.matches(6);
                                side.open_udp |= r.protocol.matches(17);
                            }
                        }
                    }
                }
                sides
            })
            .collect();
        SecurityGroups { enis, members }
    }

    /// Judges a packet crossing ENI `eni` in direction `d` by the rules alone.
    ///
    /// Untracked (TCP and UDP only) is a property of the flow, so it holds for both of
    /// its directions: the packet either starts an untracked flow (a 0.0.0.0/0 rule
    /// allows it and the opposite direction is open to 0.0.0.0/0 on all ports), or is a
    /// reply of one (its own direction is open to all, and a 0.0.0.0/0 rule of the
    /// opposite direction allows the reversed packet).
    pub fn evaluate(&self, eni: EniId, d: Direction, f: &Facts) -> SgDecision {
        let sides = &self.enis[eni.index()];
        let (side, opposite) = (&sides[side_index(d)], &sides[1 - side_index(d)]);
        let Some(rule) = self.first_match(side, d, f, false) else {
            return SgDecision::Denied;
        };
        let proto = f.tuple.proto;
        let starts_untracked =
            opposite.open_to_all(proto) && self.first_match(side, d, f, true).is_some();
        let replies_untracked = side.open_to_all(proto) && {
            let mut reversed = *f;
            std::mem::swap(&mut reversed.tuple.src, &mut reversed.tuple.dst);
            std::mem::swap(&mut reversed.tuple.src_port, &mut reversed.tuple.dst_port);
            let back = match d {
                Direction::Ingress => Direction::Egress,
                Direction::Egress => Direction::Ingress,
            };
            self.first_match(opposite, back, &reversed, true).is_some()
        };
        SgDecision::Allowed {
            rule,
            tracked: !(starts_untracked || replies_untracked),
        }
    }

    /// The first rule of `side` that allows the packet (with `everywhere`, only rules
    /// whose peer is 0.0.0.0/0).
    fn first_match(
        &self,
        side: &Side,
        d: Direction,
        f: &Facts,
        everywhere: bool,
    ) -> Option<RuleRef> {
        let peer = match d {
            Direction::Ingress => f.tuple.src,
            Direction::Egress => f.tuple.dst,
        };
        let probe = Probe::of(f);
        let addr = u32::from(peer);
        side.by_proto[proto_index(f.tuple.proto)]
            .iter()
            .find(|r| match r.group {
                None => {
                    r.matcher.matches_l4(&probe)
                        & r.matcher.matches_peer(addr)
                        & (!everywhere | r.everywhere)
                }
                Some(g) => {
                    r.matcher.matches_l4(&probe) && !everywhere && self.members.contains(&(g, peer))
                }
            })
            .map(|r| r.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l4::{L4, TcpFacts, Tuple};
    use proptest::prelude::*;
    use vpc_config::{PortRange, Protocol, SgRule};

    fn tcp(src: [u8; 4], dst: [u8; 4], dst_port: u16) -> Facts {
        Facts {
            tuple: Tuple {
                proto: 6,
                src: src.into(),
                dst: dst.into(),
                src_port: 40000,
                dst_port,
            },
            l4: L4::Tcp(TcpFacts {
                flags: 2,
                seq: 1,
                ack: 0,
                window: 1000,
                payload_len: 0,
                wscale: None,
            }),
            len: 40,
            packets: 1,
            shape: crate::offload::Shape::PLAIN,
        }
    }

    fn icmp(src: [u8; 4], dst: [u8; 4]) -> Facts {
        Facts {
            tuple: Tuple {
                proto: 1,
                src: src.into(),
                dst: dst.into(),
                src_port: 7,
                dst_port: 7,
            },
            l4: L4::IcmpEcho {
                request: true,
                id: 7,
            },
            len: 28,
            packets: 1,
            shape: crate::offload::Shape::PLAIN,
        }
    }

    const WEB: EniId = EniId(0);
    const DB: EniId = EniId(2);

    #[test]
    fn demo_groups_reference_members_by_private_ip() {
        let t = Topology::demo();
        let sgs = SecurityGroups::compile(&t);
        let (web, app, db) = ([10, 0, 1, 10], [10, 0, 2, 10], [10, 0, 12, 10]);
        // db-sg: tcp 5432 from app-sg's members only.
        assert!(matches!(
            sgs.evaluate(DB, Direction::Ingress, &tcp(app, db, 5432)),
            SgDecision::Allowed { tracked: true, .. }
        ));
        assert_eq!(
            sgs.evaluate(DB, Direction::Ingress, &tcp(web, db, 5432)),
            SgDecision::Denied
        );
        assert_eq!(
            sgs.evaluate(DB, Direction::Ingress, &tcp([10, 0, 2, 11], db, 5432)),
            SgDecision::Denied,
            "an address in app's subnet is not a member"
        );
        assert_eq!(
            sgs.evaluate(DB, Direction::Ingress, &icmp(app, db)),
            SgDecision::Denied
        );
        // A new group's default egress rule allows everything, tracked or not.
        assert!(matches!(
            sgs.evaluate(DB, Direction::Egress, &tcp(db, [192, 0, 2, 1], 443)),
            SgDecision::Allowed { .. }
        ));
    }

    #[test]
    fn untracked_needs_0_0_0_0_both_ways_and_never_applies_to_icmp() {
        let t = Topology::demo();
        let sgs = SecurityGroups::compile(&t);
        let (web, app) = ([10, 0, 1, 10], [10, 0, 2, 10]);
        // web-sg: tcp 80 from 0.0.0.0/0 with all egress to 0.0.0.0/0: untracked, and so
        // is its reply leaving web.
        assert_eq!(
            sgs.evaluate(WEB, Direction::Ingress, &tcp(app, web, 80)),
            SgDecision::Allowed {
                rule: RuleRef {
                    group: t.enis[0].security_groups[0],
                    index: 0
                },
                tracked: false
            }
        );
        let mut reply = tcp(web, app, 40000);
        reply.tuple.src_port = 80;
        assert!(matches!(
            sgs.evaluate(WEB, Direction::Egress, &reply),
            SgDecision::Allowed { tracked: false, .. }
        ));
        // tcp 22 from 10.0.0.0/16: tracked. ICMP: always tracked.
        assert!(matches!(
            sgs.evaluate(WEB, Direction::Ingress, &tcp(app, web, 22)),
            SgDecision::Allowed { tracked: true, .. }
        ));
        assert!(matches!(
            sgs.evaluate(WEB, Direction::Ingress, &icmp(app, web)),
            SgDecision::Allowed { tracked: true, .. }
        ));
        // Outbound from web to port 443: egress 0.0.0.0/0 allows it, but the ingress
        // side is not open on all ports, and no 0.0.0.0/0 ingress rule allows the
        // reversed packet (from 443): tracked.
        assert!(matches!(
            sgs.evaluate(WEB, Direction::Egress, &tcp(web, [192, 0, 2, 1], 443)),
            SgDecision::Allowed { tracked: true, .. }
        ));

        // Everything open both ways to 0.0.0.0/0: TCP is untracked both ways, ICMP is
        // still tracked both ways.
        let mut open = t.clone();
        let g = open.enis[0].security_groups[0];
        let all = open.security_groups[g.index()].egress[0].clone();
        assert_eq!(all.peer, SgPeer::Cidr(Ipv4Net::default()));
        assert_eq!(all.protocol, Protocol::All);
        open.security_groups[g.index()].ingress = vec![all];
        let sgs = SecurityGroups::compile(&open);
        let outside = [192, 0, 2, 1];
        for (d, f) in [
            (Direction::Ingress, tcp(outside, web, 22)),
            (Direction::Egress, tcp(web, outside, 443)),
        ] {
            assert!(
                matches!(
                    sgs.evaluate(WEB, d, &f),
                    SgDecision::Allowed { tracked: false, .. }
                ),
                "{d:?}"
            );
        }
        for (d, f) in [
            (Direction::Ingress, icmp(outside, web)),
            (Direction::Egress, icmp(web, outside)),
        ] {
            assert!(
                matches!(
                    sgs.evaluate(WEB, d, &f),
                    SgDecision::Allowed { tracked: true, .. }
                ),
                "{d:?}"
            );
        }
    }

    /// A naive model: allowed iff some rule of some group of the ENI matches, written
    /// straight from the topology.
    fn naive(t: &Topology, eni: EniId, d: Direction, f: &Facts) -> bool {
        let peer = if d == Direction::Ingress {
            f.tuple.src
        } else {
            f.tuple.dst
        };
        t.enis[eni.index()].security_groups.iter().any(|&g| {
            let group = t.security_group(g);
            let rules = if d == Direction::Ingress {
                &group.ingress
            } else {
                &group.egress
            };
            rules.iter().any(|r| {
                let peer_ok = match r.peer {
                    SgPeer::Cidr(c) => c.contains(&peer),
                    SgPeer::Group(m) => t
                        .enis
                        .iter()
                        .any(|e| e.private_ip == peer && e.security_groups.contains(&m)),
                    SgPeer::PrefixList(s) => {
                        t.aws_service(s).cidrs.iter().any(|c| c.contains(&peer))
                    }
                };
                let proto_ok = match r.protocol {
                    Protocol::All => true,
                    Protocol::Number(n) => n == f.tuple.proto,
                };
                let l4_ok = match r.l4 {
                    L4Match::Any => true,
                    L4Match::Ports(p) => p.from <= f.tuple.dst_port && f.tuple.dst_port <= p.to,
                    L4Match::Icmp { .. } => false,
                };
                peer_ok && proto_ok && l4_ok
            })
        })
    }

    proptest! {
        #[test]
        fn allows_exactly_what_the_union_of_the_groups_allows(
            groups in proptest::collection::vec(
                proptest::collection::vec((0u8..4, 0u32..3, 0u8..=24, 0u16..3, 0u16..100, 0u16..100), 0..6),
                1..5,
            ),
            members in proptest::collection::vec(proptest::collection::vec(0usize..5, 1..3), 3),
            src in 0u8..4,
            port in 0u16..100,
            egress in any::<bool>(),
        ) {
            let mut t = Topology::demo();
            let base = t.security_groups.len();
            for (i, rules) in groups.iter().enumerate() {
                let mut g = t.security_groups[0].clone();
                g.name = format!("g{i}");
                let rules: Vec<SgRule> = rules
                    .iter()
                    .map(|&(kind, net, len, proto, a, b)| SgRule {
                        protocol: [Protocol::All, Protocol::TCP, Protocol::UDP][proto as usize],
                        l4: if proto == 0 {
                            L4Match::Any
                        } else {
                            L4Match::Ports(PortRange { from: a.min(b), to: a.max(b) })
                        },
                        peer: if kind == 0 {
                            SgPeer::Group(SecurityGroupId((base + (net as usize % groups.len())) as u32))
                        } else {
                            SgPeer::Cidr(Ipv4Net::new(std::net::Ipv4Addr::new(10, 0, net as u8, 0), len).unwrap().trunc())
                        },
                        description: None,
                    })
                    .collect();
                g.ingress = rules.clone();
                g.egress = rules;
                t.security_groups.push(g);
            }
            for (e, m) in t.enis.iter_mut().zip(&members) {
                e.security_groups = m
                    .iter()
                    .map(|&k| SecurityGroupId((base + k % groups.len()) as u32))
                    .collect();
            }
            let sgs = SecurityGroups::compile(&t);
            let ips = [[10, 0, 1, 10], [10, 0, 2, 10], [10, 0, 12, 10], [10, 0, 0, 99]];
            let d = if egress { Direction::Egress } else { Direction::Ingress };
            let f = if egress { tcp(ips[2], ips[src as usize], port) } else { tcp(ips[src as usize], ips[2], port) };
            let got = sgs.evaluate(DB, d, &f);
            prop_assert_eq!(got != SgDecision::Denied, naive(&t, DB, d, &f));
        }
    }
}
