//! Transit gateway multicast domains, with AWS's rules (Transit Gateway guide:
//! "Multicast on transit gateways", "Multicast domains", "Working with multicast"):
//!
//! - Names are valid and unique. A domain belongs to a declared transit gateway with
//!   `multicast_support = "enable"`; `igmpv2_support` is `"enable"` or `"disable"`
//!   (the default).
//! - `associations` are VPC attachments of the domain's gateway (not deleted), each with
//!   1 or more of its subnets, each once. A subnet is associated with one multicast domain at most
//!   (AWS: "A subnet can only be in one multicast domain").
//! - `group_members` and `group_sources` register network interfaces (`instance/ethN`)
//!   statically in groups: the group is an IPv4 multicast address outside the local
//!   network control block 224.0.0.0/24 ([`crate::is_multicast_group`]), and the
//!   interface's subnet is associated with the domain. A (group, interface) pair is
//!   registered once per list.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use toml::Spanned;

use super::transit::{PendingKind, enabled, once};
use super::{Checker, lookup, names};
use crate::error::Problem;
use crate::fabric::*;
use crate::raw::RawMulticastGroupEntry;
use crate::topology::*;

/// A multicast domain being checked: its valid parts.
pub(super) struct PendingDomain {
    pub tgw: Option<TransitGatewayId>,
    pub igmpv2: Option<bool>,
    pub associations: Vec<(TgwAttachmentId, SubnetId)>,
    pub members: Vec<(Ipv4Addr, EniId)>,
    pub sources: Vec<(Ipv4Addr, EniId)>,
    pub broken: bool,
}

impl<'a> Checker<'_, 'a, '_> {
    /// Gateways, associations, then group members and sources.
    pub(super) fn multicast_domains(&mut self) {
        let raw = self.raw;
        names(
            self.r,
            "transit_gateway_multicast_domain",
            raw.transit_gateway_multicast_domain.iter().map(|d| &d.name),
        );
        // Subnet -> the domain that associated it first.
        let mut associated: HashMap<SubnetId, usize> = HashMap::new();
        for (i, d) in raw.transit_gateway_multicast_domain.iter().enumerate() {
            let path = format!("transit_gateway_multicast_domain[{i}]");
            let tgw: Option<TransitGatewayId> = lookup(
                self.r,
                &self.tr.tgw_names,
                &d.transit_gateway,
                format!("{path}.transit_gateway"),
                Problem::UnknownTransitGateway,
            );
            let mut broken = tgw.is_none();
            if let Some(g) = tgw
                && self.tr.tgws[g.index()].multicast == Some(false)
            {
                let problem = Problem::MulticastNotSupported(d.transit_gateway.get_ref().clone());
                let field = format!("{path}.transit_gateway");
                self.r.report(d.transit_gateway.span(), field, problem);
                broken = true;
            }
            let igmpv2 = enabled(
                self.r,
                d.igmpv2_support.as_ref(),
                false,
                format!("{path}.igmpv2_support"),
            );
            broken |= igmpv2.is_none();
            let mut associations = Vec::new();
            for (j, a) in d.associations.iter().enumerate() {
                let a = a.get_ref();
                let path = format!("{path}.associations[{j}]");
                let field = format!("{path}.transit_gateway_attachment");
                let att = self.attachment_on(tgw, &a.transit_gateway_attachment, field.clone());
                let att = att.filter(|&att| {
                    !self.deleted_attachment(att, &a.transit_gateway_attachment, &field)
                });
                let att_subnets = att.and_then(|att| match &self.tr.atts[att.index()].kind {
                    PendingKind::Vpc { subnets, .. } => {
                        Some(subnets.iter().map(|(s, _, _)| *s).collect::<Vec<_>>())
                    }
                    PendingKind::Peering { .. } => None,
                });
                if att.is_some() && att_subnets.is_none() {
                    let name = a.transit_gateway_attachment.get_ref().clone();
                    let problem = Problem::MulticastPeeringAttachment(name);
                    self.r
                        .report(a.transit_gateway_attachment.span(), field, problem);
                }
                broken |= att_subnets.is_none();
                let list = &a.subnets;
                if list.get_ref().is_empty() {
                    let field = format!("{path}.subnets");
                    self.r
                        .report(list.span(), field, Problem::NoMulticastSubnets);
                    broken = true;
                }
                let mut seen: HashMap<&str, usize> = HashMap::new();
                for (k, s) in list.get_ref().iter().enumerate() {
                    let field = format!("{path}.subnets[{k}]");
                    if !once(self.r, &mut seen, s, "subnets", k, &field) {
                        broken = true;
                        continue;
                    }
                    let sub: Option<SubnetId> = lookup(
                        self.r,
                        &self.subnet_names,
                        s,
                        field.clone(),
                        Problem::UnknownSubnet,
                    );
                    let (Some(sub), Some(att), Some(att_subnets)) = (sub, att, &att_subnets) else {
                        broken = true;
                        continue;
                    };
                    let problem = if !att_subnets.contains(&sub) {
                        Problem::SubnetNotInAttachment {
                            subnet: s.get_ref().clone(),
                            attachment: a.transit_gateway_attachment.get_ref().clone(),
                        }
                    } else if let Some(&other) = associated.get(&sub) {
                        Problem::SubnetInOtherMulticastDomain {
                            subnet: s.get_ref().clone(),
                            other: raw.transit_gateway_multicast_domain[other]
                                .name
                                .get_ref()
                                .clone(),
                        }
                    } else {
                        associated.insert(sub, i);
                        associations.push((att, sub));
                        continue;
                    };
                    self.r.report(s.span(), field, problem);
                    broken = true;
                }
            }
            let subnets: Vec<SubnetId> = associations.iter().map(|&(_, s)| s).collect();
            let (members, ok) = self.group_entries(i, &subnets, "group_members");
            broken |= !ok;
            let (sources, ok) = self.group_entries(i, &subnets, "group_sources");
            broken |= !ok;
            self.tr.domains.push(PendingDomain {
                tgw,
                igmpv2,
                associations,
                members,
                sources,
                broken,
            });
        }
    }

    /// The `list` (`group_members` or `group_sources`) of domain `i`, whose associated
    /// subnets are `subnets`: the valid entries, and whether all were.
    fn group_entries(
        &mut self,
        i: usize,
        subnets: &[SubnetId],
        list: &'static str,
    ) -> (Vec<(Ipv4Addr, EniId)>, bool) {
        let d = &self.raw.transit_gateway_multicast_domain[i];
        let entries: &'a [Spanned<RawMulticastGroupEntry>] = match list {
            "group_members" => &d.group_members,
            _ => &d.group_sources,
        };
        let mut ok = true;
        let mut out: Vec<(Ipv4Addr, EniId)> = Vec::new();
        // (group, interface) -> the entry that registered it first.
        let mut seen: HashMap<(Ipv4Addr, EniId), usize> = HashMap::new();
        for (j, e) in entries.iter().enumerate() {
            let e = e.get_ref();
            let path = format!("transit_gateway_multicast_domain[{i}].{list}[{j}]");
            let field = format!("{path}.group_ip_address");
            let group = match e.group_ip_address.get_ref().parse::<Ipv4Addr>() {
                Err(_) => {
                    let problem = Problem::BadAddress(e.group_ip_address.get_ref().clone());
                    self.r.report(e.group_ip_address.span(), field, problem);
                    None
                }
                Ok(ip) if !is_multicast_group(ip) => {
                    let problem = Problem::NotMulticastGroup(ip);
                    self.r.report(e.group_ip_address.span(), field, problem);
                    None
                }
                Ok(ip) => Some(ip),
            };
            let field = format!("{path}.network_interface");
            let eni = self.interface_target(&e.network_interface, &field);
            let (Some(group), Some(k)) = (group, eni) else {
                ok = false;
                continue;
            };
            let eni = EniId(k as u32);
            // An interface whose subnet is broken: reported already.
            let Some(subnet) = self.enis[k].subnet else {
                ok = false;
                continue;
            };
            let problem = if !subnets.contains(&subnet) {
                Problem::MemberSubnetNotAssociated {
                    eni: self.eni_name(k),
                    subnet: self.raw.subnet[subnet.index()].name.get_ref().clone(),
                    domain: d.name.get_ref().clone(),
                }
            } else if let Some(&index) = seen.get(&(group, eni)) {
                Problem::DuplicateGroupEntry {
                    group,
                    eni: self.eni_name(k),
                    list,
                    index,
                }
            } else if list == "group_members"
                && out.iter().filter(|(g, _)| *g == group).count() >= MAX_GROUP_MEMBERS
            {
                Problem::TooManyGroupMembers(group)
            } else {
                seen.insert((group, eni), j);
                out.push((group, eni));
                continue;
            };
            self.r.report(e.network_interface.span(), field, problem);
            ok = false;
        }
        (out, ok)
    }

    /// The checked domains, for `build` (nothing was reported).
    pub(super) fn build_multicast_domains(&self) -> Option<Vec<MulticastDomain>> {
        let mut out = Vec::new();
        for (i, d) in self.raw.transit_gateway_multicast_domain.iter().enumerate() {
            let p = &self.tr.domains[i];
            if p.broken {
                return None;
            }
            out.push(MulticastDomain {
                name: d.name.get_ref().clone(),
                transit_gateway: p.tgw?,
                igmpv2: p.igmpv2?,
                associations: p.associations.clone(),
                members: p.members.clone(),
                sources: p.sources.clone(),
            });
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use crate::fabric::*;
    use crate::topology::*;
    use crate::{ConfigError, Problem, parse};

    /// VPC `v` with subnets `m-a`, `m-b` and `m-c`, instances `sender` and `r1` in
    /// `m-a`, `r2` in `m-b` and `other` in `m-c`; transit gateway `mc` (multicast
    /// support) with attachment `att` on all three subnets, `plain` (none) with
    /// attachment `att-plain`, and peering attachment `mp` between them.
    const BASE: &str = r#"[[vpc]]
name = "v"
cidr = "10.5.0.0/16"

[[subnet]]
name = "m-a"
vpc = "v"
cidr = "10.5.1.0/24"
az = "a"

[[subnet]]
name = "m-b"
vpc = "v"
cidr = "10.5.2.0/24"
az = "b"

[[subnet]]
name = "m-c"
vpc = "v"
cidr = "10.5.3.0/24"
az = "c"

[[instance]]
name = "sender"
subnet = "m-a"

[[instance]]
name = "r1"
subnet = "m-a"

[[instance]]
name = "r2"
subnet = "m-b"

[[instance]]
name = "other"
subnet = "m-c"

[[transit_gateway]]
name = "mc"
multicast_support = "enable"

[[transit_gateway]]
name = "plain"

[[transit_gateway_vpc_attachment]]
name = "att"
transit_gateway = "mc"
vpc = "v"
subnets = ["m-a", "m-b", "m-c"]

[[transit_gateway_vpc_attachment]]
name = "att-plain"
transit_gateway = "plain"
vpc = "v"
subnets = ["m-a"]

[[transit_gateway_peering_attachment]]
name = "mp"
transit_gateway = "mc"
peer_transit_gateway = "plain"
"#;

    /// Lines in `BASE`: a snippet appended to it starts on line `BASE_LINES + 1`.
    const BASE_LINES: usize = 61;

    snippet_helpers!();

    fn problems(extra: &str) -> Vec<Problem> {
        match parse(&format!("{BASE}{extra}"), "t.toml") {
            Err(ConfigError::Invalid(d)) => d.into_iter().map(|d| d.problem).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    /// Domain `name` of `tgw` with `keys` (whole lines, no final newline), which start
    /// on line 4.
    fn domain(name: &str, tgw: &str, keys: &str) -> String {
        format!(
            "[[transit_gateway_multicast_domain]]\nname = \"{name}\"\ntransit_gateway = \"{tgw}\"\n{keys}\n"
        )
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
        ok("");
    }

    #[test]
    fn a_domain_associates_subnets_and_registers_members_and_sources() {
        let t = ok(&domain(
            "mcast",
            "mc",
            "igmpv2_support = \"enable\"\nassociations = [{ transit_gateway_attachment = \"att\", subnets = [\"m-a\", \"m-b\"] }]\ngroup_members = [\n  { group_ip_address = \"239.1.1.1\", network_interface = \"r1/eth0\" },\n  { group_ip_address = \"239.1.1.1\", network_interface = \"r2/eth0\" },\n]\ngroup_sources = [{ group_ip_address = \"239.1.1.1\", network_interface = \"sender/eth0\" }]",
        ));
        let eni = |n: &str| t.find_eni(n).unwrap();
        assert_eq!(
            t.multicast_domains,
            [MulticastDomain {
                name: "mcast".into(),
                transit_gateway: TransitGatewayId(0),
                igmpv2: true,
                associations: vec![
                    (TgwAttachmentId(0), SubnetId(0)),
                    (TgwAttachmentId(0), SubnetId(1))
                ],
                members: vec![(ip("239.1.1.1"), eni("r1")), (ip("239.1.1.1"), eni("r2"))],
                sources: vec![(ip("239.1.1.1"), eni("sender"))],
            }]
        );
        assert_eq!(
            t.multicast_domain(MulticastDomainId(0)).name,
            "mcast".to_string()
        );
        // Without members, and igmpv2 off by default.
        let t = ok(&domain("empty", "mc", ""));
        assert!(!t.multicast_domains[0].igmpv2);
    }

    #[test]
    fn a_domain_needs_multicast_support_and_vpc_attachments_of_its_gateway() {
        assert_eq!(
            errors(&domain(
                "x",
                "plain",
                "associations = [{ transit_gateway_attachment = \"mp\", subnets = [\"m-a\"] }]\nigmpv2_support = \"v2\""
            )),
            [
                format!(
                    "{}transit_gateway_multicast_domain[0].transit_gateway transit gateway \"plain\" has no multicast support (set multicast_support = \"enable\" on it)",
                    at(3, 19)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[0].associations[0].transit_gateway_attachment \"mp\" is a peering attachment: a multicast domain associates subnets of VPC attachments",
                    at(4, 48)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[0].igmpv2_support \"v2\" is not an option value (write \"enable\" or \"disable\")",
                    at(5, 18)
                ),
            ]
        );
        assert_eq!(
            problems(&domain(
                "x",
                "mc",
                "associations = [{ transit_gateway_attachment = \"att-plain\", subnets = [\"m-a\"] }]"
            )),
            [Problem::AttachmentNotOnTgw {
                attachment: "att-plain".into(),
                on: "transit gateway \"plain\"".into(),
                tgw: "mc".into()
            }]
        );
    }

    #[test]
    fn a_subnet_is_in_one_domain_and_in_its_attachment() {
        let src = BASE.replace(
            "subnets = [\"m-a\", \"m-b\", \"m-c\"]",
            "subnets = [\"m-a\", \"m-b\"]",
        );
        let src = src
            + &domain(
                "one",
                "mc",
                "associations = [{ transit_gateway_attachment = \"att\", subnets = [\"m-a\", \"m-c\", \"m-a\", \"zz\"] }]",
            )
            + &domain(
                "two",
                "mc",
                "associations = [{ transit_gateway_attachment = \"att\", subnets = [\"m-a\", \"m-b\"] }, { transit_gateway_attachment = \"att\", subnets = [] }]",
            );
        let shown: Vec<String> = match parse(&src, "t.toml") {
            Err(ConfigError::Invalid(d)) => d.iter().map(|d| d.to_string()).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        };
        assert_eq!(
            shown,
            [
                format!(
                    "{}transit_gateway_multicast_domain[0].associations[0].subnets[1] subnet \"m-c\" is not one of the subnets of transit gateway attachment \"att\"",
                    at(4, 73)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[0].associations[0].subnets[2] \"m-a\" is already subnets[0]",
                    at(4, 80)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[0].associations[0].subnets[3] \"zz\" is not a declared subnet",
                    at(4, 87)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[1].associations[0].subnets[0] subnet \"m-a\" is already associated with transit_gateway_multicast_domain \"one\"; a subnet is associated with one multicast domain at most",
                    at(8, 66)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[1].associations[1].subnets must name at least one subnet of the attachment",
                    at(8, 131)
                ),
            ]
        );
    }

    #[test]
    fn members_and_sources_are_multicast_groups_in_associated_subnets() {
        let keys = |members: &str| {
            format!(
                "associations = [{{ transit_gateway_attachment = \"att\", subnets = [\"m-a\"] }}]\ngroup_members = [{members}]"
            )
        };
        assert_eq!(
            errors(&domain(
                "x",
                "mc",
                &keys(
                    "{ group_ip_address = \"224.0.0.5\", network_interface = \"r1/eth0\" }, { group_ip_address = \"10.5.1.9\", network_interface = \"r1/eth0\" }, { group_ip_address = \"239.x\", network_interface = \"r1/eth0\" }"
                )
            )),
            [
                format!(
                    "{}transit_gateway_multicast_domain[0].group_members[0].group_ip_address 224.0.0.5 is not a multicast group address: use 224.0.0.0/4 outside 224.0.0.0/24 (local network control)",
                    at(5, 39)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[0].group_members[1].group_ip_address 10.5.1.9 is not a multicast group address: use 224.0.0.0/4 outside 224.0.0.0/24 (local network control)",
                    at(5, 106)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[0].group_members[2].group_ip_address \"239.x\" is not an IPv4 address",
                    at(5, 172)
                ),
            ]
        );
        assert_eq!(
            errors(&domain(
                "x",
                "mc",
                &keys(
                    "{ group_ip_address = \"239.1.1.1\", network_interface = \"r2/eth0\" }, { group_ip_address = \"239.1.1.1\", network_interface = \"r1/eth0\" }, { group_ip_address = \"239.1.1.1\", network_interface = \"r1/eth0\" }, { group_ip_address = \"239.1.1.1\", network_interface = \"r1/eth1\" }"
                )
            )),
            [
                format!(
                    "{}transit_gateway_multicast_domain[0].group_members[0].network_interface r2/eth0 is in subnet \"m-b\", which is not associated with multicast domain \"x\"",
                    at(5, 72)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[0].group_members[2].network_interface r1/eth0 in group 239.1.1.1 is already group_members[1]",
                    at(5, 206)
                ),
                format!(
                    "{}transit_gateway_multicast_domain[0].group_members[3].network_interface \"r1/eth1\" is not a network interface (write instance/ethN, e.g. \"fw/eth1\")",
                    at(5, 273)
                ),
            ]
        );
        // The same interface may be a member and a source, and of several groups.
        let t = ok(&domain(
            "x",
            "mc",
            &(keys(
                "{ group_ip_address = \"239.1.1.1\", network_interface = \"r1/eth0\" }, { group_ip_address = \"239.1.1.2\", network_interface = \"r1/eth0\" }",
            ) + "\ngroup_sources = [{ group_ip_address = \"239.1.1.1\", network_interface = \"r1/eth0\" }]"),
        ));
        assert_eq!(t.multicast_domains[0].members.len(), 2);
        assert_eq!(t.multicast_domains[0].sources.len(), 1);
    }

    #[test]
    fn a_group_has_at_most_32_members() {
        let config = |instances: usize, n: usize| {
            let mut src = String::from(
                "[[vpc]]\nname = \"v\"\ncidr = \"10.6.0.0/16\"\n\n[[subnet]]\nname = \"s\"\nvpc = \"v\"\ncidr = \"10.6.0.0/24\"\naz = \"a\"\n\n[[transit_gateway]]\nname = \"t\"\nmulticast_support = \"enable\"\n\n[[transit_gateway_vpc_attachment]]\nname = \"att\"\ntransit_gateway = \"t\"\nvpc = \"v\"\nsubnets = [\"s\"]\n",
            );
            for k in 0..instances {
                src += &format!("\n[[instance]]\nname = \"r{k}\"\nsubnet = \"s\"\n");
            }
            let members: Vec<String> = (0..n)
                .map(|k| {
                    format!(
                        "{{ group_ip_address = \"239.1.1.1\", network_interface = \"r{k}/eth0\" }}"
                    )
                })
                .collect();
            src += &format!(
                "\n[[transit_gateway_multicast_domain]]\nname = \"d\"\ntransit_gateway = \"t\"\nassociations = [{{ transit_gateway_attachment = \"att\", subnets = [\"s\"] }}]\ngroup_members = [{}]\n",
                members.join(", ")
            );
            src
        };
        let t = parse(&config(33, 32), "t.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.multicast_domains[0].members.len(), 32);
        match parse(&config(33, 33), "t.toml") {
            Err(ConfigError::Invalid(d)) => {
                assert_eq!(d.len(), 1);
                assert_eq!(
                    d[0].problem,
                    Problem::TooManyGroupMembers(Ipv4Addr::new(239, 1, 1, 1))
                );
            }
            other => panic!("{other:?}"),
        }
        // And at run time.
        let mut t = t;
        let refused = t.register_multicast_group_members("d", Ipv4Addr::new(239, 1, 1, 1), "r32");
        assert_eq!(
            refused,
            Err(crate::EditError::TooManyGroupMembers(Ipv4Addr::new(
                239, 1, 1, 1
            )))
        );
    }
}
