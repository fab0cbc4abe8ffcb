//! `vpcctl trace`: a probe packet walked through the live pipeline, recording each
//! stage's decision, with nothing changed (no connection is tracked, no counter or flow
//! log moves). The probe is what a user's tool would send first: a TCP SYN from an
//! ephemeral port, a UDP datagram, or an ICMP echo request.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use vpc_config::{
    EniId, L4Match, NetworkAclId, Protocol, RouteTableId, RouteTarget, RuleAction, SgPeer,
    SubnetId, Topology,
};

use crate::direction::Direction;
use crate::hop::{self, GatewayStep};
use crate::nacl::NaclDecision;
use crate::packet::PacketBuf;
use crate::sg::SgDecision;
use crate::verdict::{DropReason, Port, Verdict};
use crate::wire::{checksum, ntp};

/// The source port of TCP and UDP probes (the first of the IANA ephemeral range).
pub const PROBE_SOURCE_PORT: u16 = 49152;
/// The identifier of ICMP echo probes.
pub const PROBE_ECHO_ID: u16 = 0x7663;

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A TCP SYN to a port.
    Tcp(u16),
    /// A UDP datagram to a port.
    Udp(u16),
    /// An ICMP echo request.
    Icmp,
}

/// How a connection table judged the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    /// Part of a flow the ENI already tracks: the rules are skipped.
    Tracked,
    /// An ICMP error about a tracked flow: the rules are skipped.
    Related,
    /// Not tracked: the rules decided.
    Rules(SgDecision),
    /// Invalid for the connection table.
    Invalid(DropReason),
}

/// One stage's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The VPC router answers the probe itself.
    Router,
    /// The Amazon Time Sync Service (169.254.169.123) answers the NTP request.
    TimeSync,
    /// The packet goes to vpcd's DNS resolver or metadata service (the services port).
    Service {
        /// Which.
        service: crate::services::Service,
    },
    /// The route that matched in the source subnet's table.
    Route {
        /// The table.
        table: RouteTableId,
        /// The matching route's destination.
        destination: Ipv4Net,
        /// Its target.
        target: RouteTarget,
    },
    /// The ENI the route delivers to.
    Deliver {
        /// The egress ENI.
        to: EniId,
    },
    /// A security group decision on an ENI.
    SecurityGroup {
        /// The ENI.
        eni: EniId,
        /// Egress (the sender) or ingress (the receiver).
        direction: Direction,
        /// What decided.
        tracking: Tracking,
    },
    /// A network ACL decision where the probe leaves or enters a subnet.
    Nacl {
        /// The NACL.
        nacl: NetworkAclId,
        /// The subnet it guards.
        subnet: SubnetId,
        /// Outbound (egress) or inbound (ingress).
        direction: Direction,
        /// The entry that decided.
        decision: NaclDecision,
    },
    /// Source and destination share a subnet: no NACL applies.
    SameSubnet {
        /// The subnet.
        subnet: SubnetId,
    },
    /// A gateway's decision (see `hop`).
    Gateway(GatewayStep),
}

impl From<GatewayStep> for Step {
    fn from(g: GatewayStep) -> Step {
        Step::Gateway(g)
    }
}

/// A probe's walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The probe's source address (the ENI's).
    pub src: Ipv4Addr,
    /// Each stage's decision, in pipeline order.
    pub steps: Vec<Step>,
    /// The final verdict.
    pub verdict: Verdict,
}

/// Builds the probe packet from `src` to `dst`.
pub(crate) fn build(src: Ipv4Addr, dst: Ipv4Addr, probe: Probe) -> PacketBuf {
    let (proto, mut l4): (u8, Vec<u8>) = match probe {
        Probe::Tcp(port) => {
            let mut t = vec![0u8; 20];
            t[0..2].copy_from_slice(&PROBE_SOURCE_PORT.to_be_bytes());
            t[2..4].copy_from_slice(&port.to_be_bytes());
            t[4..8].copy_from_slice(&1u32.to_be_bytes());
            t[12] = 5 << 4;
            t[13] = crate::l4::tcp_flags::SYN;
            t[14..16].copy_from_slice(&64240u16.to_be_bytes());
            (6, t)
        }
        Probe::Udp(port) => {
            // To port 123 the probe is an NTP request (version 4, client mode), as a
            // time client sends it; to any other port an empty datagram.
            let payload = if port == ntp::PORT {
                ntp::HEADER_LEN
            } else {
                0
            };
            let mut u = vec![0u8; 8 + payload];
            u[0..2].copy_from_slice(&PROBE_SOURCE_PORT.to_be_bytes());
            u[2..4].copy_from_slice(&port.to_be_bytes());
            u[4..6].copy_from_slice(&((8 + payload) as u16).to_be_bytes());
            if payload > 0 {
                u[8] = 4 << 3 | ntp::MODE_CLIENT;
            }
            (17, u)
        }
        Probe::Icmp => {
            let mut m = vec![8, 0, 0, 0, 0, 0, 0, 1];
            m[4..6].copy_from_slice(&PROBE_ECHO_ID.to_be_bytes());
            (1, m)
        }
    };
    let (at, c) = match proto {
        6 | 17 => (
            if proto == 6 { 16 } else { 6 },
            checksum::transport(src, dst, proto, &l4),
        ),
        _ => (2, checksum::internet(&l4)),
    };
    l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    let total = 20 + l4.len();
    let mut p = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = checksum::internet(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&l4);
    PacketBuf::from_bytes(&p)
}

/// A trace in words: each stage's name and decision, the verdict, and what decided a
/// drop. Names come from `t` (the topology the dataplane runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// (stage, decision) per step.
    pub steps: Vec<(String, String)>,
    /// `FORWARD to db/eth0`, `REPLY from the VPC router` or `DROP <reason>`.
    pub verdict: String,
    /// For a drop: the rule or reason that decided it; empty otherwise.
    pub because: String,
}

impl Probe {
    /// The probe's protocol and destination port as a user writes them.
    pub fn describe(self) -> String {
        match self {
            Probe::Tcp(p) => format!("tcp port {p} (SYN from port {PROBE_SOURCE_PORT})"),
            Probe::Udp(p) => format!("udp port {p} (from port {PROBE_SOURCE_PORT})"),
            Probe::Icmp => "icmp echo request".to_owned(),
        }
    }
}

/// Puts `trace` in words.
pub fn describe(t: &Topology, trace: &Trace) -> Described {
    let mut steps = Vec::new();
    let mut because = String::new();
    for step in &trace.steps {
        let (stage, decision) = match *step {
            Step::Router => (
                "router".to_owned(),
                "the VPC router answers this echo request itself".to_owned(),
            ),
            Step::Service { service } => (
                "service".to_owned(),
                format!(
                    "{} answers this itself (no route, security group, network ACL or \
                     flow log applies)",
                    match service {
                        crate::services::Service::Dns => "the Amazon DNS resolver",
                        crate::services::Service::Metadata => "the instance metadata service",
                    }
                ),
            ),
            Step::TimeSync => (
                "time".to_owned(),
                "the Amazon Time Sync Service answers this NTP request itself (no route, \
                 security group or network ACL applies)"
                    .to_owned(),
            ),
            Step::Route {
                table,
                destination,
                target,
            } => {
                let target = t.route_target_name(target);
                (
                    "route".to_owned(),
                    format!(
                        "route table {}: {destination} -> {target}",
                        t.route_table(table).name
                    ),
                )
            }
            Step::Deliver { to } => {
                let eni = t.eni(to);
                (
                    "deliver".to_owned(),
                    format!(
                        "to {} ({}, subnet {})",
                        t.eni_name(to),
                        eni.private_ip,
                        t.subnet(eni.subnet).name
                    ),
                )
            }
            Step::SameSubnet { subnet } => (
                "nacl".to_owned(),
                format!(
                    "not evaluated: source and destination are both in subnet {}",
                    t.subnet(subnet).name
                ),
            ),
            Step::Nacl {
                nacl,
                subnet,
                direction,
                decision,
            } => {
                let acl = t.network_acl(nacl);
                let (stage, rules, way) = match direction {
                    Direction::Egress => ("nacl outbound", &acl.egress, "to"),
                    Direction::Ingress => ("nacl inbound", &acl.ingress, "from"),
                };
                let text = match decision.rule {
                    Some(n) => {
                        let rule = rules.iter().find(|r| r.number == n);
                        let what = rule.map_or(String::new(), |r| {
                            format!(
                                ": {} {} {way} {}",
                                r.action,
                                match_text(r.protocol, r.l4),
                                r.cidr
                            )
                        });
                        format!("network ACL {} rule {n}{what}", acl.name)
                    }
                    None => format!(
                        "network ACL {} rule *: deny (no numbered rule matches)",
                        acl.name
                    ),
                };
                if decision.action == RuleAction::Deny {
                    let rule = decision.rule.map_or("*".to_owned(), |n| n.to_string());
                    because = format!(
                        "network ACL {} ({} of subnet {}) rule {rule} denies it",
                        acl.name,
                        if direction == Direction::Egress {
                            "outbound"
                        } else {
                            "inbound"
                        },
                        t.subnet(subnet).name
                    );
                }
                (format!("{stage} {}", t.subnet(subnet).name), text)
            }
            Step::SecurityGroup {
                eni,
                direction,
                tracking,
            } => {
                let dir = match direction {
                    Direction::Egress => "egress",
                    Direction::Ingress => "ingress",
                };
                let groups: Vec<&str> = t
                    .eni(eni)
                    .security_groups
                    .iter()
                    .map(|&g| t.security_group(g).name.as_str())
                    .collect();
                let text = match tracking {
                    Tracking::Tracked => {
                        "part of a tracked connection: allowed without evaluating rules".to_owned()
                    }
                    Tracking::Related => {
                        "an ICMP error about a tracked connection: allowed".to_owned()
                    }
                    Tracking::Invalid(r) => {
                        because = format!(
                            "connection tracking on {}: {}",
                            t.eni_name(eni),
                            r.description()
                        );
                        format!("invalid for connection tracking: {}", r.name())
                    }
                    Tracking::Rules(SgDecision::Denied) => {
                        because = format!(
                            "no {dir} rule of {} ({}) allows it",
                            t.eni_name(eni),
                            groups.join(", ")
                        );
                        format!("denied: no {dir} rule of {} allows it", groups.join(", "))
                    }
                    Tracking::Rules(SgDecision::Allowed { rule, tracked }) => {
                        let group = t.security_group(rule.group);
                        let rules = match direction {
                            Direction::Egress => &group.egress,
                            Direction::Ingress => &group.ingress,
                        };
                        let what = rules.get(rule.index).map_or(String::new(), |r| {
                            let way = if direction == Direction::Egress {
                                "to"
                            } else {
                                "from"
                            };
                            let peer = match r.peer {
                                SgPeer::Cidr(c) => c.to_string(),
                                SgPeer::PrefixList(s) => {
                                    format!("prefix list {}", t.aws_service(s).service_name())
                                }
                                SgPeer::Group(g) => {
                                    format!("members of {}", t.security_group(g).name)
                                }
                            };
                            format!(": {} {way} {peer}", match_text(r.protocol, r.l4))
                        });
                        format!(
                            "allowed by {} {dir} rule {}{what}{}",
                            group.name,
                            rule.index + 1,
                            if tracked {
                                " (tracked)"
                            } else {
                                " (untracked)"
                            }
                        )
                    }
                };
                (format!("sg {dir} {}", t.eni_name(eni)), text)
            }
            Step::Gateway(g) => {
                let (stage, decision, why) = hop::describe(t, &g);
                if let Some(why) = why {
                    because = why;
                }
                (stage, decision)
            }
        };
        steps.push((stage, decision));
    }
    let verdict = match trace.verdict {
        Verdict::Forward { to } => format!("FORWARD to {}", port_name(t, to)),
        Verdict::Multicast { members, .. } => {
            format!("MULTICAST to {} members", members.count_ones())
        }
        Verdict::Reply {
            reply: crate::verdict::Reply::TcpReset { cause },
            ..
        } => {
            format!("REPLY tcp reset ({})", cause.name())
        }
        Verdict::Reply {
            reply: crate::verdict::Reply::IcmpError { cause },
            ..
        } => format!("REPLY icmp error ({})", cause.name()),
        Verdict::Reply { .. } => "REPLY from the VPC router".to_owned(),
        Verdict::Drop(reason) => {
            if because.is_empty() {
                because = reason.description().to_owned();
            }
            format!("DROP {}", reason.name())
        }
    };
    if !matches!(trace.verdict, Verdict::Drop(_)) {
        because.clear();
    }
    Described {
        steps,
        verdict,
        because,
    }
}

/// A port as users name it: `web/eth0`, or an internet host's name.
pub fn port_name(t: &Topology, port: Port) -> String {
    match port {
        Port::Eni(e) => t.eni_name(e).to_string(),
        Port::Host(h) => t.internet_host(h).name.clone(),
        Port::Services => "services".to_owned(),
    }
}

/// A rule's protocol and ports in words: `all traffic`, `tcp 80`, `icmp type 8 code 0`.
fn match_text(protocol: Protocol, l4: L4Match) -> String {
    match (protocol, l4) {
        (Protocol::All, _) => "all traffic".to_owned(),
        (p, L4Match::Any) => p.to_string(),
        (p, L4Match::Ports(r)) => format!("{p} {r}"),
        (p, L4Match::Icmp { icmp_type, code }) => {
            let n = |v: Option<u8>| v.map_or("any".to_owned(), |v| v.to_string());
            format!("{p} type {} code {}", n(icmp_type), n(code))
        }
    }
}
