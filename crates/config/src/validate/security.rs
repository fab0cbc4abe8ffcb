//! Security groups, network ACLs, the groups and connection-tracking timeouts of each
//! interface, and flow logs, with AWS's rules:
//!
//! - Security group names are unique within their VPC. At most 60 rules per direction
//!   per group. A rule has a protocol (`tcp`, `udp`, `icmp`, `all`/`-1` or a number
//!   0..255), ports (TCP and UDP only) or an ICMP type and code (ICMP only), and
//!   exactly one peer: a canonical CIDR or a group of the same VPC, or, with `vpc`
//!   (`UserIdGroupPair.VpcId`), of a VPC peered with it in the same region (AWS: a
//!   peer VPC's group can be referenced only within one region; a connection deleted
//!   since leaves a "stale" rule; see [`super::peering`]). An omitted `egress`
//!   is AWS's default, allow all to 0.0.0.0/0; an omitted `ingress` is empty, except
//!   for the VPC's `default` group, where it allows all from the group's own members.
//! - Every VPC has a group named `default`: the declared one, or an implicit one
//!   appended after the declared groups.
//! - An interface has 1 to 5 distinct groups of its VPC (the VPC's default group if
//!   it names none), and connection-tracking timeouts within AWS's ranges.
//! - Network ACL names are unique within their VPC. Rule numbers are 1..32766 and
//!   unique per direction; at most 20 rules per direction (AWS's default quota). A
//!   subnet is associated with at most one NACL, of its own VPC, and otherwise uses
//!   the VPC's `default` NACL: the declared one (an omitted direction allows all), or
//!   an implicit allow-all one appended after the declared NACLs. A custom NACL's
//!   omitted direction denies all.
//! - Flow logs have unique names and cover exactly one VPC, subnet or interface; the
//!   traffic type is ACCEPT, REJECT or ALL; the destination is not empty; the format
//!   is `${field}`s separated by single spaces, each a known field at most once; the
//!   aggregation interval is 60 or 600 seconds.
//!
//! Canonical rule forms: TCP or UDP on every port, ICMP of every type and code, and
//! any other protocol are all `L4Match::Any`.

use std::collections::HashMap;
use std::ops::Range;

use ipnet::Ipv4Net;
use toml::Spanned;

use super::{Associated, Checker, lookup, names, parse_cidr, valid_name};
use crate::error::{Problem, Reporter};
use crate::raw::{RawConntrack, RawL4, RawNaclRule, RawSgRule, RawVpc};
use crate::security::*;
use crate::topology::*;

/// The name of every VPC's default security group and default network ACL.
const DEFAULT: &str = "default";

impl<'a> Checker<'_, 'a, '_> {
    /// VPCs, names and ids of the security groups (the implicit default groups
    /// included), then their rules.
    pub(super) fn security_groups(&mut self) {
        let raw = self.raw;
        for (i, g) in raw.security_group.iter().enumerate() {
            let field = format!("security_group[{i}].vpc");
            let vpc = lookup(self.r, &self.vpc_names, &g.vpc, field, Problem::UnknownVpc);
            self.sg_vpcs.push(vpc);
        }
        let declared = names_in_vpc(
            self.r,
            "security_group",
            &raw.vpc,
            raw.security_group
                .iter()
                .map(|g| &g.name)
                .zip(self.sg_vpcs.iter().copied()),
        );
        let ids = default_ids(&declared, raw.vpc.len(), raw.security_group.len());
        self.default_sgs = ids.iter().map(|&i| SecurityGroupId(i as u32)).collect();
        self.sg_ids = declared
            .iter()
            .map(|(&key, &i)| (key, SecurityGroupId(i as u32)))
            .collect();
        for (v, &id) in self.default_sgs.iter().enumerate() {
            self.sg_ids.insert((VpcId(v as u32), DEFAULT), id);
        }

        for (i, g) in raw.security_group.iter().enumerate() {
            let own = SecurityGroupId(i as u32);
            let is_default = self.sg_vpcs[i].is_some_and(|v| self.default_sgs[v.index()] == own);
            if let Some(d) = &g.description {
                description(self.r, d, format!("security_group[{i}].description"));
            }
            let ingress = match &g.ingress {
                None if is_default => vec![sg_allow_all(SgPeer::Group(own))],
                None => Vec::new(),
                Some(rules) => self.sg_rules_of(i, "ingress", rules),
            };
            let egress = match &g.egress {
                None => vec![sg_allow_all(SgPeer::Cidr(Ipv4Net::default()))],
                Some(rules) => self.sg_rules_of(i, "egress", rules),
            };
            self.sg_rules.push((ingress, egress));
        }
    }

    fn sg_rules_of(
        &mut self,
        i: usize,
        direction: &str,
        rules: &'a Spanned<Vec<Spanned<RawSgRule>>>,
    ) -> Vec<SgRule> {
        let path = format!("security_group[{i}].{direction}");
        let count = rules.get_ref().len();
        if count > MAX_SG_RULES {
            let problem = Problem::TooManySgRules {
                count,
                max: MAX_SG_RULES,
            };
            self.r.report(rules.span(), path.clone(), problem);
        }
        let mut checked = Vec::new();
        for (j, rule) in rules.get_ref().iter().enumerate() {
            if let Some(rule) = self.sg_rule(i, &format!("{path}[{j}]"), rule) {
                checked.push(rule);
            }
        }
        checked
    }

    fn sg_rule(&mut self, i: usize, path: &str, rule: &'a Spanned<RawSgRule>) -> Option<SgRule> {
        let raw = rule.get_ref();
        let l4 = protocol_and_l4(self.r, raw.l4(), path);
        if let Some(d) = &raw.description {
            description(self.r, d, format!("{path}.description"));
        }
        let found = raw.cidr.is_some() as usize
            + raw.security_group.is_some() as usize
            + raw.prefix_list_id.is_some() as usize;
        let peer = match (&raw.cidr, &raw.security_group) {
            _ if found != 1 => {
                let problem = Problem::SgPeerCount { found };
                self.r.report(rule.span(), path, problem);
                None
            }
            (Some(cidr), _) => parse_cidr(self.r, cidr, format!("{path}.cidr")).map(SgPeer::Cidr),
            (_, Some(group)) => {
                let field = format!("{path}.security_group");
                // A group of an unknown VPC: that is reported already.
                let own = self.sg_vpcs[i];
                let vpc = match &raw.vpc {
                    None => own,
                    Some(v) => self.referenced_vpc(own, v, format!("{path}.vpc")),
                };
                vpc.and_then(|vpc| self.group_ref(vpc, group, field))
                    .map(SgPeer::Group)
            }
            (None, None) => raw.prefix_list_id.as_ref().and_then(|pl| {
                let field = format!("{path}.prefix_list_id");
                self.prefix_list_ref(self.sg_vpcs[i], pl, field)
                    .map(SgPeer::PrefixList)
            }),
        };
        if let (Some(v), None) = (&raw.vpc, &raw.security_group) {
            self.r
                .report(v.span(), format!("{path}.vpc"), Problem::SgVpcWithoutGroup);
        }
        let (protocol, l4) = l4?;
        Some(SgRule {
            protocol,
            l4,
            peer: peer?,
            description: raw.description.as_ref().map(|d| d.get_ref().clone()),
        })
    }

    /// A security group named in `vpc`: declared there, or that VPC's `default`.
    fn group_ref(
        &mut self,
        vpc: VpcId,
        reference: &Spanned<String>,
        field: String,
    ) -> Option<SecurityGroupId> {
        let name = reference.get_ref().as_str();
        if let Some(&id) = self.sg_ids.get(&(vpc, name)) {
            return Some(id);
        }
        let vpc_name = |v: VpcId| self.raw.vpc[v.index()].name.get_ref().clone();
        let elsewhere = self
            .sg_ids
            .keys()
            .filter(|(_, n)| *n == name)
            .map(|&(v, _)| v)
            .min();
        let problem = match elsewhere {
            Some(other) => Problem::SecurityGroupInOtherVpc {
                name: name.to_owned(),
                group_vpc: vpc_name(other),
                vpc: vpc_name(vpc),
            },
            None => Problem::UnknownSecurityGroup {
                name: name.to_owned(),
                vpc: vpc_name(vpc),
            },
        };
        self.r.report(reference.span(), field, problem);
        None
    }

    /// VPCs, names and ids of the network ACLs (the implicit default NACLs included),
    /// subnet associations, then rules.
    pub(super) fn network_acls(&mut self) {
        let raw = self.raw;
        for (i, n) in raw.network_acl.iter().enumerate() {
            let field = format!("network_acl[{i}].vpc");
            let vpc = lookup(self.r, &self.vpc_names, &n.vpc, field, Problem::UnknownVpc);
            self.nacl_vpcs.push(vpc);
        }
        let declared = names_in_vpc(
            self.r,
            "network_acl",
            &raw.vpc,
            raw.network_acl
                .iter()
                .map(|n| &n.name)
                .zip(self.nacl_vpcs.iter().copied()),
        );
        let ids = default_ids(&declared, raw.vpc.len(), raw.network_acl.len());
        self.default_nacls = ids.iter().map(|&i| NetworkAclId(i as u32)).collect();

        for (i, n) in raw.network_acl.iter().enumerate() {
            self.nacl_associations(i);
            let is_default = self.nacl_vpcs[i]
                .is_some_and(|v| self.default_nacls[v.index()] == NetworkAclId(i as u32));
            let [ingress, egress] =
                [("ingress", &n.ingress), ("egress", &n.egress)].map(|(dir, list)| match list {
                    None if is_default => vec![nacl_allow_all()],
                    None => Vec::new(),
                    Some(list) => self.nacl_rules_of(i, dir, list),
                });
            self.nacl_rules.push((ingress, egress));
        }
    }

    fn nacl_associations(&mut self, i: usize) {
        let n = &self.raw.network_acl[i];
        for (j, s) in n.subnets.iter().enumerate() {
            let field = format!("network_acl[{i}].subnets[{j}]");
            self.associate(Associated::NetworkAcl, i, self.nacl_vpcs[i], s, field);
        }
    }

    fn nacl_rules_of(
        &mut self,
        i: usize,
        direction: &'static str,
        rules: &'a Spanned<Vec<Spanned<RawNaclRule>>>,
    ) -> Vec<NaclRule> {
        let path = format!("network_acl[{i}].{direction}");
        let count = rules.get_ref().len();
        if count > MAX_NACL_RULES {
            let problem = Problem::TooManyNaclRules {
                count,
                max: MAX_NACL_RULES,
            };
            self.r.report(rules.span(), path.clone(), problem);
        }
        let mut seen: HashMap<u16, usize> = HashMap::new();
        let mut checked = Vec::new();
        for (j, rule) in rules.get_ref().iter().enumerate() {
            let raw = rule.get_ref();
            let path = format!("{path}[{j}]");
            let number = rule_number(self.r, &raw.rule_number, &path);
            let number = number.filter(|&number| match seen.get(&number) {
                Some(&index) => {
                    let problem = Problem::DuplicateNaclRule {
                        number,
                        direction,
                        index,
                    };
                    let field = format!("{path}.rule_number");
                    self.r.report(raw.rule_number.span(), field, problem);
                    false
                }
                None => {
                    seen.insert(number, j);
                    true
                }
            });
            let action = match raw.action.get_ref().as_str() {
                "allow" => Some(RuleAction::Allow),
                "deny" => Some(RuleAction::Deny),
                other => {
                    let problem = Problem::BadAction(other.to_owned());
                    self.r
                        .report(raw.action.span(), format!("{path}.action"), problem);
                    None
                }
            };
            let cidr = match (&raw.cidr, &raw.prefix_list_id) {
                (_, Some(pl)) => {
                    let problem = crate::EndpointProblem::PrefixListInNacl.into();
                    self.r
                        .report(pl.span(), format!("{path}.prefix_list_id"), problem);
                    None
                }
                (Some(c), None) => parse_cidr(self.r, c, format!("{path}.cidr")),
                (None, None) => {
                    let problem = Problem::Syntax("missing field `cidr`".to_owned());
                    self.r.report(rule.span(), path.clone(), problem);
                    None
                }
            };
            let l4 = protocol_and_l4(self.r, raw.l4(), &path);
            if let (Some(number), Some(action), Some(cidr), Some((protocol, l4))) =
                (number, action, cidr, l4)
            {
                checked.push(NaclRule {
                    number,
                    protocol,
                    l4,
                    cidr,
                    action,
                });
            }
        }
        checked.sort_by_key(|r| r.number);
        checked
    }

    /// Every interface's security groups and connection-tracking timeouts.
    pub(super) fn interface_security(&mut self) {
        for k in 0..self.enis.len() {
            let e = &self.enis[k];
            let vpc = e
                .subnet
                .and_then(|s| self.subnets[s.index()])
                .map(|(v, _)| v);
            let (prefix, groups_ref, conntrack_ref) =
                (e.prefix.clone(), e.groups_ref, e.conntrack_ref);
            let groups = match groups_ref {
                None => vpc.map(|v| vec![self.default_sgs[v.index()]]),
                Some(list) => self.interface_groups(list, vpc, &prefix),
            };
            self.enis[k].security_groups = groups.unwrap_or_default();
            if let Some(c) = conntrack_ref {
                self.enis[k].conntrack = conntrack(self.r, c, &prefix);
            }
        }
    }

    /// The groups an interface names: 1 to 5, distinct, of its VPC.
    fn interface_groups(
        &mut self,
        list: &'a Spanned<Vec<Spanned<String>>>,
        vpc: Option<VpcId>,
        prefix: &str,
    ) -> Option<Vec<SecurityGroupId>> {
        let field = format!("{prefix}.security_groups");
        let names = list.get_ref();
        if names.is_empty() {
            self.r.report(list.span(), field, Problem::NoSecurityGroups);
            return None;
        }
        let mut ok = true;
        if names.len() > MAX_SGS_PER_ENI {
            let problem = Problem::TooManySecurityGroups {
                count: names.len(),
                max: MAX_SGS_PER_ENI,
            };
            self.r.report(list.span(), field.clone(), problem);
            ok = false;
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut ids = Vec::new();
        for (j, name) in names.iter().enumerate() {
            let field = format!("{field}[{j}]");
            if let Some(&index) = seen.get(name.get_ref().as_str()) {
                let problem = Problem::DuplicateSecurityGroup {
                    name: name.get_ref().clone(),
                    index,
                };
                self.r.report(name.span(), field, problem);
                ok = false;
                continue;
            }
            seen.insert(name.get_ref(), j);
            // An interface whose subnet is broken: that is reported already.
            let Some(vpc) = vpc else { continue };
            match self.group_ref(vpc, name, field) {
                Some(id) => ids.push(id),
                None => ok = false,
            }
        }
        ok.then_some(ids)
    }

    /// Names, resources, traffic types, destinations, formats and intervals.
    pub(super) fn flow_logs(&mut self) {
        let raw = self.raw;
        names(self.r, "flow_log", raw.flow_log.iter().map(|f| &f.name));
        for (i, f) in raw.flow_log.iter().enumerate() {
            let path = format!("flow_log[{i}]");
            let found = f.vpc.is_some() as usize
                + f.subnet.is_some() as usize
                + f.network_interface.is_some() as usize;
            let resource = if found != 1 {
                let problem = Problem::FlowLogResourceCount { found };
                self.r.report(f.name.span(), path.clone(), problem);
                None
            } else if let Some(v) = &f.vpc {
                let field = format!("{path}.vpc");
                lookup(self.r, &self.vpc_names, v, field, Problem::UnknownVpc)
                    .map(FlowLogResource::Vpc)
            } else if let Some(s) = &f.subnet {
                let field = format!("{path}.subnet");
                lookup(self.r, &self.subnet_names, s, field, Problem::UnknownSubnet)
                    .map(FlowLogResource::Subnet)
            } else if let Some(n) = &f.network_interface {
                let field = format!("{path}.network_interface");
                self.interface_target(n, &field)
                    .map(|k| FlowLogResource::Eni(EniId(k as u32)))
            } else {
                None
            };
            let traffic_type = match &f.traffic_type {
                None => Some(TrafficType::All),
                Some(t) => {
                    let parsed = TrafficType::from_name(t.get_ref());
                    if parsed.is_none() {
                        let problem = Problem::BadTrafficType(t.get_ref().clone());
                        self.r
                            .report(t.span(), format!("{path}.traffic_type"), problem);
                    }
                    parsed
                }
            };
            let destination = f.log_destination.get_ref();
            if destination.trim().is_empty() {
                let field = format!("{path}.log_destination");
                self.r.report(
                    f.log_destination.span(),
                    field,
                    Problem::EmptyLogDestination,
                );
            }
            let format = match &f.log_format {
                None => Some(DEFAULT_FLOW_LOG_FORMAT.to_vec()),
                Some(text) => log_format(self.r, text, format!("{path}.log_format")),
            };
            let interval = match &f.max_aggregation_interval {
                None => Some(FLOW_LOG_INTERVALS[1]),
                Some(n) => {
                    let value = *n.get_ref();
                    let ok = FLOW_LOG_INTERVALS.iter().any(|&i| i64::from(i) == value);
                    if !ok {
                        let field = format!("{path}.max_aggregation_interval");
                        let problem = Problem::BadAggregationInterval(value);
                        self.r.report(n.span(), field, problem);
                    }
                    ok.then_some(value as u32)
                }
            };
            let delivery = self.flow_log_delivery(f, &path);
            let checked = match (resource, traffic_type, format, interval, delivery) {
                (
                    Some(resource),
                    Some(traffic_type),
                    Some(format),
                    Some(interval),
                    Some(delivery),
                ) if !destination.trim().is_empty() => Some(FlowLog {
                    name: f.name.get_ref().clone(),
                    resource,
                    traffic_type,
                    destination: destination.clone(),
                    format,
                    max_aggregation_interval: interval,
                    delivery,
                }),
                _ => None,
            };
            self.flow_logs.push(checked);
        }
    }

    /// The AWS destination of flow log `f` (`Some(None)` if it has none; `None` if it
    /// is wrong, which was reported).
    fn flow_log_delivery(
        &mut self,
        f: &crate::raw::RawFlowLog,
        path: &str,
    ) -> Option<Option<FlowLogDelivery>> {
        let (ty, arn) = match (&f.log_destination_type, &f.log_destination_arn) {
            (None, None) => {
                if let Some(p) = &f.deliver_logs_permission_arn {
                    let field = format!("{path}.deliver_logs_permission_arn");
                    self.r
                        .report(p.span(), field, Problem::LogDestinationTypeWithoutArn);
                    return None;
                }
                return Some(None);
            }
            (Some(t), Some(a)) => (t, a),
            (Some(t), None) => {
                let field = format!("{path}.log_destination_type");
                self.r
                    .report(t.span(), field, Problem::LogDestinationTypeWithoutArn);
                return None;
            }
            (None, Some(a)) => {
                let field = format!("{path}.log_destination_arn");
                self.r
                    .report(a.span(), field, Problem::LogDestinationTypeWithoutArn);
                return None;
            }
        };
        let Some(destination_type) = LogDestinationType::from_name(ty.get_ref()) else {
            let field = format!("{path}.log_destination_type");
            let problem = Problem::BadLogDestinationType(ty.get_ref().clone());
            self.r.report(ty.span(), field, problem);
            return None;
        };
        Some(Some(FlowLogDelivery {
            destination_type,
            arn: arn.get_ref().clone(),
            permission_arn: f
                .deliver_logs_permission_arn
                .as_ref()
                .map(|p| p.get_ref().clone()),
        }))
    }

    /// The declared security groups in file order, then the implicit default groups
    /// in VPC order (the order their ids were given in).
    pub(super) fn build_security_groups(&self) -> Option<Vec<SecurityGroup>> {
        let mut groups = Vec::new();
        for (i, g) in self.raw.security_group.iter().enumerate() {
            let vpc = self.sg_vpcs[i]?;
            let (ingress, egress) = self.sg_rules[i].clone();
            groups.push(SecurityGroup {
                name: g.name.get_ref().clone(),
                vpc,
                default: self.default_sgs[vpc.index()].index() == i,
                declared: true,
                description: g.description.as_ref().map(|d| d.get_ref().clone()),
                ingress,
                egress,
            });
        }
        for (v, &id) in self.default_sgs.iter().enumerate() {
            if id.index() >= self.raw.security_group.len() {
                debug_assert_eq!(id.index(), groups.len());
                groups.push(SecurityGroup {
                    name: DEFAULT.to_owned(),
                    vpc: VpcId(v as u32),
                    default: true,
                    declared: false,
                    description: None,
                    ingress: vec![sg_allow_all(SgPeer::Group(id))],
                    egress: vec![sg_allow_all(SgPeer::Cidr(Ipv4Net::default()))],
                });
            }
        }
        Some(groups)
    }

    /// The declared network ACLs in file order, then the implicit default NACLs in
    /// VPC order.
    pub(super) fn build_network_acls(&self) -> Option<Vec<NetworkAcl>> {
        let mut acls = Vec::new();
        for (i, n) in self.raw.network_acl.iter().enumerate() {
            let vpc = self.nacl_vpcs[i]?;
            let (ingress, egress) = self.nacl_rules[i].clone();
            acls.push(NetworkAcl {
                name: n.name.get_ref().clone(),
                vpc,
                default: self.default_nacls[vpc.index()].index() == i,
                declared: true,
                ingress,
                egress,
            });
        }
        for (v, &id) in self.default_nacls.iter().enumerate() {
            if id.index() >= self.raw.network_acl.len() {
                debug_assert_eq!(id.index(), acls.len());
                acls.push(NetworkAcl {
                    name: DEFAULT.to_owned(),
                    vpc: VpcId(v as u32),
                    default: true,
                    declared: false,
                    ingress: vec![nacl_allow_all()],
                    egress: vec![nacl_allow_all()],
                });
            }
        }
        Some(acls)
    }
}

/// A rule allowing every protocol from or to `peer` (AWS's default rules; also what
/// `write` leaves out).
pub(crate) fn sg_allow_all(peer: SgPeer) -> SgRule {
    SgRule {
        protocol: Protocol::All,
        l4: L4Match::Any,
        peer,
        description: None,
    }
}

/// AWS's allow-all entry of a default NACL: rule 100, all protocols, 0.0.0.0/0.
pub(crate) fn nacl_allow_all() -> NaclRule {
    NaclRule {
        number: 100,
        protocol: Protocol::All,
        l4: L4Match::Any,
        cidr: Ipv4Net::default(),
        action: RuleAction::Allow,
    }
}

/// Checks names of one kind that are unique per VPC (items whose VPC is unknown are
/// only checked for validity); maps (VPC, name) to the index of its first use.
fn names_in_vpc<'a>(
    r: &mut Reporter<'_>,
    kind: &'static str,
    vpcs: &[RawVpc],
    items: impl Iterator<Item = (&'a Spanned<String>, Option<VpcId>)>,
) -> HashMap<(VpcId, &'a str), usize> {
    let mut map = HashMap::new();
    for (i, (name, vpc)) in items.enumerate() {
        let field = format!("{kind}[{i}].name");
        if !valid_name(name.get_ref()) {
            r.report(name.span(), field, Problem::BadName(name.get_ref().clone()));
            continue;
        }
        let Some(vpc) = vpc else { continue };
        let key = (vpc, name.get_ref().as_str());
        if let Some(&index) = map.get(&key) {
            let problem = Problem::DuplicateNameInVpc {
                name: name.get_ref().clone(),
                kind,
                index,
                vpc: vpcs[vpc.index()].name.get_ref().clone(),
            };
            r.report(name.span(), field, problem);
        } else {
            map.insert(key, i);
        }
    }
    map
}

/// Per VPC, the index of its default resource: the declared one named `default`, or
/// the next index after the `declared` ones, in VPC order, for the implicit ones.
fn default_ids(names: &HashMap<(VpcId, &str), usize>, vpcs: usize, declared: usize) -> Vec<usize> {
    let mut next = declared;
    (0..vpcs)
        .map(|v| match names.get(&(VpcId(v as u32), DEFAULT)) {
            Some(&i) => i,
            None => {
                next += 1;
                next - 1
            }
        })
        .collect()
}

/// A description of at most 255 characters.
pub(super) fn description(r: &mut Reporter<'_>, d: &Spanned<String>, field: String) {
    let len = d.get_ref().chars().count();
    if len > MAX_DESCRIPTION_LEN {
        let problem = Problem::DescriptionTooLong {
            len,
            max: MAX_DESCRIPTION_LEN,
        };
        r.report(d.span(), field, problem);
    }
}

/// The protocol of a rule and what it matches beyond it, in canonical form.
fn protocol_and_l4(r: &mut Reporter<'_>, l4: RawL4<'_>, path: &str) -> Option<(Protocol, L4Match)> {
    let Some(protocol) = Protocol::from_name(l4.protocol.get_ref()) else {
        let problem = Problem::BadProtocol(l4.protocol.get_ref().clone());
        r.report(l4.protocol.span(), format!("{path}.protocol"), problem);
        return None;
    };
    let port_keys = [
        ("port", l4.port),
        ("from_port", l4.from_port),
        ("to_port", l4.to_port),
    ];
    let icmp_keys = [("icmp_type", l4.icmp_type), ("icmp_code", l4.icmp_code)];
    let first = |keys: &[(&'static str, Option<&Spanned<i64>>)]| {
        keys.iter()
            .find_map(|&(key, value)| value.map(|v| (key, v.span())))
    };
    let mut misplaced = false;
    if let Some((key, span)) = first(&port_keys).filter(|_| !protocol.has_ports()) {
        r.report(
            span,
            format!("{path}.{key}"),
            Problem::PortsNotAllowed { protocol },
        );
        misplaced = true;
    }
    if let Some((key, span)) = first(&icmp_keys).filter(|_| protocol != Protocol::ICMP) {
        r.report(
            span,
            format!("{path}.{key}"),
            Problem::IcmpNotAllowed { protocol },
        );
        misplaced = true;
    }
    if misplaced {
        return None;
    }
    let l4 = if protocol.has_ports() {
        ports(r, l4, path)?
    } else if protocol == Protocol::ICMP {
        icmp(r, l4, path)?
    } else {
        L4Match::Any
    };
    Some((protocol, l4))
}

/// `port = N`, or `from_port` and `to_port`, or neither (every port).
fn ports(r: &mut Reporter<'_>, l4: RawL4<'_>, path: &str) -> Option<L4Match> {
    let mut port = |v: &Spanned<i64>, key: &str| match u16::try_from(*v.get_ref()) {
        Ok(p) => Some(p),
        Err(_) => {
            let problem = Problem::PortOutOfRange(*v.get_ref());
            r.report(v.span(), format!("{path}.{key}"), problem);
            None
        }
    };
    let range = match (l4.port, l4.from_port, l4.to_port) {
        (None, None, None) => PortRange::ALL,
        (Some(p), None, None) => {
            let p = port(p, "port")?;
            PortRange { from: p, to: p }
        }
        (Some(p), _, _) => {
            r.report(p.span(), format!("{path}.port"), Problem::PortAndRange);
            return None;
        }
        (None, Some(from), None) => {
            let problem = Problem::HalfPortRange { missing: "to_port" };
            r.report(from.span(), format!("{path}.from_port"), problem);
            return None;
        }
        (None, None, Some(to)) => {
            let problem = Problem::HalfPortRange {
                missing: "from_port",
            };
            r.report(to.span(), format!("{path}.to_port"), problem);
            return None;
        }
        (None, Some(from), Some(to)) => {
            let (from_port, to_port) = (port(from, "from_port"), port(to, "to_port"));
            let (from_port, to_port) = (from_port?, to_port?);
            if from_port > to_port {
                let problem = Problem::BadPortRange {
                    from: from_port,
                    to: to_port,
                };
                r.report(to.span(), format!("{path}.to_port"), problem);
                return None;
            }
            PortRange {
                from: from_port,
                to: to_port,
            }
        }
    };
    Some(if range == PortRange::ALL {
        L4Match::Any
    } else {
        L4Match::Ports(range)
    })
}

/// `icmp_type` and `icmp_code`: 0..255, or -1 or absent for every one; a code needs
/// a specific type.
fn icmp(r: &mut Reporter<'_>, l4: RawL4<'_>, path: &str) -> Option<L4Match> {
    let mut value = |v: Option<&Spanned<i64>>, key: &str| -> Option<Option<u8>> {
        let Some(v) = v else { return Some(None) };
        match *v.get_ref() {
            -1 => Some(None),
            n => match u8::try_from(n) {
                Ok(n) => Some(Some(n)),
                Err(_) => {
                    let problem = Problem::IcmpOutOfRange(n);
                    r.report(v.span(), format!("{path}.{key}"), problem);
                    None
                }
            },
        }
    };
    let (icmp_type, code) = (
        value(l4.icmp_type, "icmp_type"),
        value(l4.icmp_code, "icmp_code"),
    );
    let (icmp_type, code) = (icmp_type?, code?);
    if let (None, Some(_), Some(c)) = (icmp_type, code, l4.icmp_code) {
        let field = format!("{path}.icmp_code");
        r.report(c.span(), field, Problem::IcmpCodeWithoutType);
        return None;
    }
    Some(match (icmp_type, code) {
        (None, None) => L4Match::Any,
        (icmp_type, code) => L4Match::Icmp { icmp_type, code },
    })
}

/// A NACL rule number, 1..32766.
fn rule_number(r: &mut Reporter<'_>, n: &Spanned<i64>, path: &str) -> Option<u16> {
    match u16::try_from(*n.get_ref()) {
        Ok(number) if (1..=MAX_NACL_RULE).contains(&number) => Some(number),
        _ => {
            let problem = Problem::NaclRuleNumberOutOfRange(*n.get_ref());
            r.report(n.span(), format!("{path}.rule_number"), problem);
            None
        }
    }
}

/// Connection-tracking timeouts: each written one within AWS's range, the others
/// AWS's defaults.
fn conntrack(r: &mut Reporter<'_>, c: &RawConntrack, prefix: &str) -> ConntrackTimeouts {
    let mut t = ConntrackTimeouts::default();
    let keys = [
        (
            "tcp_established_timeout",
            &c.tcp_established_timeout,
            ConntrackTimeouts::TCP_ESTABLISHED_RANGE,
            &mut t.tcp_established,
        ),
        (
            "udp_stream_timeout",
            &c.udp_stream_timeout,
            ConntrackTimeouts::UDP_STREAM_RANGE,
            &mut t.udp_stream,
        ),
        (
            "udp_timeout",
            &c.udp_timeout,
            ConntrackTimeouts::UDP_RANGE,
            &mut t.udp,
        ),
    ];
    for (key, value, (min, max), slot) in keys {
        let Some(value) = value else { continue };
        let v = *value.get_ref();
        match u32::try_from(v) {
            Ok(seconds) if (min..=max).contains(&seconds) => *slot = seconds,
            _ => {
                let problem = Problem::TimeoutOutOfRange { value: v, min, max };
                let field = format!("{prefix}.connection_tracking.{key}");
                r.report(value.span(), field, problem);
            }
        }
    }
    t
}

/// A flow log format: `${field}`s separated by single spaces, each known and used
/// once. Problems point at the offending part when the string is written without
/// escapes, else at the string.
fn log_format(
    r: &mut Reporter<'_>,
    text: &Spanned<String>,
    field: String,
) -> Option<Vec<FlowLogField>> {
    let value = text.get_ref();
    let span = text.span();
    let verbatim = r
        .source()
        .get(span.clone())
        .is_some_and(|s| s.len() == value.len() + 2 && s.get(1..s.len() - 1) == Some(value));
    let at = |part: Range<usize>| -> Range<usize> {
        if verbatim {
            span.start + 1 + part.start..span.start + 1 + part.end
        } else {
            span.clone()
        }
    };
    if value.trim().is_empty() {
        r.report(span.clone(), field, Problem::EmptyLogFormat);
        return None;
    }
    let mut fields = Vec::new();
    let mut ok = true;
    let mut offset = 0;
    for token in value.split(' ') {
        let part = offset..offset + token.len();
        offset += token.len() + 1;
        let name = token
            .strip_prefix("${")
            .and_then(|t| t.strip_suffix('}'))
            .filter(|n| !n.contains(['$', '{', '}']));
        let problem = match name.map(|n| (n, FlowLogField::from_name(n))) {
            None => Problem::BadLogFormat(token.to_owned()),
            Some((n, None)) => Problem::UnknownFlowLogField(n.to_owned()),
            Some((n, Some(f))) if fields.contains(&f) => {
                Problem::RepeatedFlowLogField(n.to_owned())
            }
            Some((_, Some(f))) => {
                fields.push(f);
                continue;
            }
        };
        r.report(at(part), field.clone(), problem);
        ok = false;
    }
    ok.then_some(fields)
}

#[cfg(test)]
mod tests {
    use crate::Topology;
    use crate::{security::*, topology::*};

    /// Two VPCs; `main` has subnets `a` and `b` (zone x), `other` has subnet `o`.
    const BASE: &str = r#"[[vpc]]
name = "main"
cidr = "10.0.0.0/16"

[[vpc]]
name = "other"
cidr = "10.1.0.0/16"

[[subnet]]
name = "a"
vpc = "main"
cidr = "10.0.1.0/24"
az = "x"

[[subnet]]
name = "b"
vpc = "main"
cidr = "10.0.2.0/24"
az = "x"

[[subnet]]
name = "o"
vpc = "other"
cidr = "10.1.1.0/24"
az = "x"
"#;

    /// Lines in `BASE`: a snippet appended to it starts on line `BASE_LINES + 1`.
    const BASE_LINES: usize = 25;

    snippet_helpers!();

    fn net(s: &str) -> ipnet::Ipv4Net {
        s.parse().unwrap()
    }

    fn sg_rule(protocol: Protocol, l4: L4Match, peer: SgPeer) -> SgRule {
        SgRule {
            protocol,
            l4,
            peer,
            description: None,
        }
    }

    fn nacl_rule(number: u16, action: RuleAction, cidr: &str) -> NaclRule {
        NaclRule {
            number,
            protocol: Protocol::All,
            l4: L4Match::Any,
            cidr: net(cidr),
            action,
        }
    }

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
    }

    fn sg(extra_keys: &str) -> String {
        format!("[[security_group]]\nname = \"s\"\nvpc = \"main\"\n{extra_keys}\n")
    }

    #[test]
    fn group_references_must_be_groups_of_the_same_vpc() {
        let src = "[[security_group]]\nname = \"s\"\nvpc = \"main\"\ningress = [\n  { protocol = \"tcp\", port = 80, security_group = \"ghost\" },\n  { protocol = \"tcp\", port = 80, security_group = \"o-sg\" },\n  { protocol = \"all\", security_group = \"default\" },\n]\n\n[[security_group]]\nname = \"o-sg\"\nvpc = \"other\"\n\n[[instance]]\nname = \"i\"\nsubnet = \"a\"\nsecurity_groups = [\"s\", \"o-sg\", \"nope\"]\n";
        assert_eq!(
            errors(src),
            [
                format!(
                    "{}security_group[0].ingress[0].security_group \"ghost\" is not a security group of vpc \"main\"",
                    at(5, 51)
                ),
                format!(
                    "{}security_group[0].ingress[1].security_group \"o-sg\" is a security group of vpc \"other\", not of vpc \"main\"",
                    at(6, 51)
                ),
                format!(
                    "{}instance[0].security_groups[1] \"o-sg\" is a security group of vpc \"other\", not of vpc \"main\"",
                    at(17, 25)
                ),
                format!(
                    "{}instance[0].security_groups[2] \"nope\" is not a security group of vpc \"main\"",
                    at(17, 33)
                ),
            ]
        );
    }

    #[test]
    fn protocols_are_names_or_numbers_up_to_255() {
        let e = errors(&sg(
            "ingress = [\n  { protocol = \"256\", cidr = \"0.0.0.0/0\" },\n  { protocol = \"TCP\", cidr = \"0.0.0.0/0\" },\n]",
        ));
        let tail = "is not a protocol (write \"tcp\", \"udp\", \"icmp\", \"all\" or \"-1\", or a protocol number from 0 to 255)";
        assert_eq!(
            e,
            [
                format!(
                    "{}security_group[0].ingress[0].protocol \"256\" {tail}",
                    at(5, 16)
                ),
                format!(
                    "{}security_group[0].ingress[1].protocol \"TCP\" {tail}",
                    at(6, 16)
                ),
            ]
        );
        for (written, protocol) in [
            ("tcp", Protocol::TCP),
            ("6", Protocol::TCP),
            ("17", Protocol::UDP),
            ("udp", Protocol::UDP),
            ("1", Protocol::ICMP),
            ("all", Protocol::All),
            ("-1", Protocol::All),
            ("0", Protocol::Number(0)),
            ("47", Protocol::Number(47)),
            ("255", Protocol::Number(255)),
        ] {
            let t = ok(&sg(&format!(
                "ingress = [{{ protocol = \"{written}\", cidr = \"0.0.0.0/0\" }}]"
            )));
            assert_eq!(
                t.security_groups[0].ingress,
                [sg_rule(
                    protocol,
                    L4Match::Any,
                    SgPeer::Cidr(net("0.0.0.0/0"))
                )],
                "{written}"
            );
        }
    }

    #[test]
    fn ports_are_for_tcp_and_udp_and_form_a_range() {
        let e = errors(&sg(concat!(
            "ingress = [\n",
            "  { protocol = \"tcp\", from_port = 1024, to_port = 80, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"udp\", port = 70000, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"icmp\", port = 8, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"all\", from_port = 1, to_port = 2, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"tcp\", icmp_type = 8, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"tcp\", from_port = 1, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"tcp\", port = 1, to_port = 2, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"tcp\", from_port = -1, to_port = 2, cidr = \"0.0.0.0/0\" },\n",
            "]",
        )));
        assert_eq!(
            e,
            [
                format!(
                    "{}security_group[0].ingress[0].to_port bad port range 1024-80: from_port is greater than to_port",
                    at(5, 51)
                ),
                format!(
                    "{}security_group[0].ingress[1].port bad port range: 70000 is not a port (0 to 65535)",
                    at(6, 30)
                ),
                format!(
                    "{}security_group[0].ingress[2].port is only for tcp and udp rules; this rule's protocol is icmp",
                    at(7, 31)
                ),
                format!(
                    "{}security_group[0].ingress[3].from_port is only for tcp and udp rules; this rule's protocol is all",
                    at(8, 35)
                ),
                format!(
                    "{}security_group[0].ingress[4].icmp_type is only for icmp rules; this rule's protocol is tcp",
                    at(9, 35)
                ),
                format!(
                    "{}security_group[0].ingress[5].from_port is given without to_port: write both from_port and to_port, or port = N",
                    at(10, 35)
                ),
                format!(
                    "{}security_group[0].ingress[6].port cannot be combined with from_port and to_port: write one or the other",
                    at(11, 30)
                ),
                format!(
                    "{}security_group[0].ingress[7].from_port bad port range: -1 is not a port (0 to 65535)",
                    at(12, 35)
                ),
            ]
        );
    }

    #[test]
    fn rules_are_stored_in_canonical_form() {
        let t = ok(&sg(concat!(
            "ingress = [\n",
            "  { protocol = \"tcp\", from_port = 0, to_port = 65535, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"tcp\", port = 22, cidr = \"10.0.0.0/16\", description = \"ssh\" },\n",
            "  { protocol = \"udp\", from_port = 1024, to_port = 65535, cidr = \"10.0.0.0/16\" },\n",
            "  { protocol = \"icmp\", icmp_type = -1, icmp_code = -1, cidr = \"10.0.0.0/16\" },\n",
            "  { protocol = \"icmp\", icmp_type = 8, cidr = \"10.0.0.0/16\" },\n",
            "  { protocol = \"icmp\", icmp_type = 3, icmp_code = 4, cidr = \"10.0.0.0/16\" },\n",
            "  { protocol = \"icmp\", icmp_type = 3, icmp_code = -1, cidr = \"10.0.0.0/16\" },\n",
            "]",
        )));
        let vpc = SgPeer::Cidr(net("10.0.0.0/16"));
        let icmp = |icmp_type, code| L4Match::Icmp { icmp_type, code };
        assert_eq!(
            t.security_groups[0].ingress,
            [
                sg_rule(Protocol::TCP, L4Match::Any, SgPeer::Cidr(net("0.0.0.0/0"))),
                SgRule {
                    description: Some("ssh".into()),
                    ..sg_rule(
                        Protocol::TCP,
                        L4Match::Ports(PortRange { from: 22, to: 22 }),
                        vpc
                    )
                },
                sg_rule(
                    Protocol::UDP,
                    L4Match::Ports(PortRange {
                        from: 1024,
                        to: 65535
                    }),
                    vpc
                ),
                sg_rule(Protocol::ICMP, L4Match::Any, vpc),
                sg_rule(Protocol::ICMP, icmp(Some(8), None), vpc),
                sg_rule(Protocol::ICMP, icmp(Some(3), Some(4)), vpc),
                sg_rule(Protocol::ICMP, icmp(Some(3), None), vpc),
            ]
        );
    }

    #[test]
    fn icmp_types_and_codes() {
        let e = errors(&sg(concat!(
            "ingress = [\n",
            "  { protocol = \"icmp\", icmp_code = 0, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"icmp\", icmp_type = -1, icmp_code = 1, cidr = \"0.0.0.0/0\" },\n",
            "  { protocol = \"icmp\", icmp_type = 256, icmp_code = -2, cidr = \"0.0.0.0/0\" },\n",
            "]",
        )));
        assert_eq!(
            e,
            [
                format!(
                    "{}security_group[0].ingress[0].icmp_code needs a specific icmp_type (a code only means something within one type)",
                    at(5, 36)
                ),
                format!(
                    "{}security_group[0].ingress[1].icmp_code needs a specific icmp_type (a code only means something within one type)",
                    at(6, 52)
                ),
                format!(
                    "{}security_group[0].ingress[2].icmp_type 256 is not an ICMP type or code (0 to 255, or -1 for every one)",
                    at(7, 36)
                ),
                format!(
                    "{}security_group[0].ingress[2].icmp_code -2 is not an ICMP type or code (0 to 255, or -1 for every one)",
                    at(7, 53)
                ),
            ]
        );
    }

    #[test]
    fn a_rule_has_exactly_one_canonical_peer() {
        let e = errors(&sg(concat!(
            "ingress = [\n",
            "  { protocol = \"all\" },\n",
            "  { protocol = \"all\", cidr = \"0.0.0.0/0\", security_group = \"s\" },\n",
            "  { protocol = \"all\", cidr = \"10.0.0.1/16\" },\n",
            "]",
        )));
        assert_eq!(
            e,
            [
                format!(
                    "{}security_group[0].ingress[0] must have exactly one peer: cidr, security_group or prefix_list_id (found 0)",
                    at(5, 3)
                ),
                format!(
                    "{}security_group[0].ingress[1] must have exactly one peer: cidr, security_group or prefix_list_id (found 2)",
                    at(6, 3)
                ),
                format!(
                    "{}security_group[0].ingress[2].cidr 10.0.0.1/16 is not canonical: host bits are set (did you mean 10.0.0.0/16?)",
                    at(7, 30)
                ),
            ]
        );
    }

    #[test]
    fn group_names_are_unique_per_vpc() {
        let two = |vpc: &str| {
            format!(
                "[[security_group]]\nname = \"s\"\nvpc = \"main\"\n\n[[security_group]]\nname = \"s\"\nvpc = \"{vpc}\"\n"
            )
        };
        assert_eq!(
            errors(&two("main")),
            [format!(
                "{}security_group[1].name \"s\" is already the name of security_group 0 in vpc \"main\"",
                at(6, 8)
            )]
        );
        let t = ok(&two("other"));
        let names: Vec<(&str, u32, bool)> = t
            .security_groups
            .iter()
            .map(|g| (g.name.as_str(), g.vpc.0, g.declared))
            .collect();
        assert_eq!(
            names,
            [
                ("s", 0, true),
                ("s", 1, true),
                ("default", 0, false),
                ("default", 1, false)
            ]
        );
    }

    #[test]
    fn at_most_60_rules_per_direction_and_short_descriptions() {
        let rules = vec!["{ protocol = \"tcp\", cidr = \"0.0.0.0/0\" }"; 61].join(", ");
        let long = "x".repeat(256);
        let e = errors(&format!(
            "[[security_group]]\nname = \"s\"\nvpc = \"main\"\ndescription = \"{long}\"\negress = [{rules}]\n"
        ));
        assert_eq!(
            e,
            [
                format!(
                    "{}security_group[0].description is 256 characters long; AWS allows at most 255",
                    at(4, 15)
                ),
                format!(
                    "{}security_group[0].egress has 61 rules; AWS allows at most 60 per direction per security group",
                    at(5, 10)
                ),
            ]
        );
        let rules = vec!["{ protocol = \"tcp\", cidr = \"0.0.0.0/0\" }"; 60].join(", ");
        let t = ok(&sg(&format!("egress = [{rules}]")));
        assert_eq!(t.security_groups[0].egress.len(), 60);
    }

    #[test]
    fn every_vpc_gets_an_implicit_default_group_and_nacl() {
        let t = ok("");
        let any = net("0.0.0.0/0");
        assert_eq!(t.security_groups.len(), 2);
        for (v, g) in t.security_groups.iter().enumerate() {
            let id = SecurityGroupId(v as u32);
            assert_eq!(t.vpcs[v].default_security_group, id);
            assert_eq!(
                g,
                &SecurityGroup {
                    name: "default".into(),
                    vpc: VpcId(v as u32),
                    default: true,
                    declared: false,
                    description: None,
                    ingress: vec![sg_rule(Protocol::All, L4Match::Any, SgPeer::Group(id))],
                    egress: vec![sg_rule(Protocol::All, L4Match::Any, SgPeer::Cidr(any))],
                }
            );
        }
        assert_eq!(t.network_acls.len(), 2);
        for (v, n) in t.network_acls.iter().enumerate() {
            assert_eq!(t.vpcs[v].default_network_acl, NetworkAclId(v as u32));
            assert_eq!(
                n,
                &NetworkAcl {
                    name: "default".into(),
                    vpc: VpcId(v as u32),
                    default: true,
                    declared: false,
                    ingress: vec![nacl_rule(100, RuleAction::Allow, "0.0.0.0/0")],
                    egress: vec![nacl_rule(100, RuleAction::Allow, "0.0.0.0/0")],
                }
            );
        }
        for s in &t.subnets {
            assert_eq!(s.network_acl, t.vpcs[s.vpc.index()].default_network_acl);
        }
        assert!(t.flow_logs.is_empty());
    }

    #[test]
    fn omitted_directions_of_a_new_group() {
        // No ingress written: none; no egress written: all to 0.0.0.0/0.
        let t = ok(&sg(""));
        let g = &t.security_groups[0];
        assert!(g.declared && !g.default);
        assert!(g.ingress.is_empty());
        let all = sg_rule(Protocol::All, L4Match::Any, SgPeer::Cidr(net("0.0.0.0/0")));
        assert_eq!(g.egress, [all]);
        // `egress = []` is no egress rule at all.
        let t = ok(&sg("egress = []"));
        assert!(t.security_groups[0].egress.is_empty());
        // Rules as written, in file order, on both sides.
        let t = ok(&sg(
            "ingress = [{ protocol = \"tcp\", port = 443, cidr = \"0.0.0.0/0\" }]\negress = [{ protocol = \"udp\", port = 53, security_group = \"s\" }]",
        ));
        assert_eq!(
            t.security_groups[0].egress,
            [sg_rule(
                Protocol::UDP,
                L4Match::Ports(PortRange { from: 53, to: 53 }),
                SgPeer::Group(SecurityGroupId(0))
            )]
        );
    }

    #[test]
    fn a_declared_default_group_is_the_vpcs_default() {
        let t = ok(concat!(
            "[[security_group]]\nname = \"web\"\nvpc = \"main\"\n\n",
            "[[security_group]]\nname = \"default\"\nvpc = \"main\"\n",
            "egress = [{ protocol = \"all\", cidr = \"10.0.0.0/16\" }]\n\n",
            "[[instance]]\nname = \"i\"\nsubnet = \"a\"\n",
        ));
        // main's default is the declared group 1; other's is implicit, after them.
        let names: Vec<(&str, u32, bool, bool)> = t
            .security_groups
            .iter()
            .map(|g| (g.name.as_str(), g.vpc.0, g.default, g.declared))
            .collect();
        assert_eq!(
            names,
            [
                ("web", 0, false, true),
                ("default", 0, true, true),
                ("default", 1, true, false)
            ]
        );
        assert_eq!(t.vpcs[0].default_security_group, SecurityGroupId(1));
        assert_eq!(t.vpcs[1].default_security_group, SecurityGroupId(2));
        let d = &t.security_groups[1];
        // Ingress omitted: AWS's default group rule, all from its own members.
        assert_eq!(
            d.ingress,
            [sg_rule(
                Protocol::All,
                L4Match::Any,
                SgPeer::Group(SecurityGroupId(1))
            )]
        );
        assert_eq!(
            d.egress,
            [sg_rule(
                Protocol::All,
                L4Match::Any,
                SgPeer::Cidr(net("10.0.0.0/16"))
            )]
        );
        // An interface that names no group gets the declared default.
        assert_eq!(t.enis[0].security_groups, [SecurityGroupId(1)]);
        // Written rules replace the default ones; `ingress = []` is none.
        let t = ok("[[security_group]]\nname = \"default\"\nvpc = \"other\"\ningress = []\n");
        assert!(t.security_groups[0].ingress.is_empty());
        assert_eq!(t.vpcs[1].default_security_group, SecurityGroupId(0));
        assert_eq!(t.vpcs[0].default_security_group, SecurityGroupId(1));
    }

    #[test]
    fn interfaces_name_one_to_five_distinct_groups() {
        let mut groups = String::new();
        for g in 1..=6 {
            groups += &format!("[[security_group]]\nname = \"g{g}\"\nvpc = \"main\"\n\n");
        }
        let e = errors(&format!(
            "[[instance]]\nname = \"i\"\nsubnet = \"a\"\nsecurity_groups = []\n\n[[instance.eni]]\nsubnet = \"b\"\nsecurity_groups = [\"g1\", \"g2\", \"g3\", \"g4\", \"g5\", \"g6\"]\n\n[[instance]]\nname = \"j\"\nsubnet = \"a\"\nsecurity_groups = [\"g1\", \"default\", \"g1\"]\n\n{groups}"
        ));
        assert_eq!(
            e,
            [
                format!(
                    "{}instance[0].security_groups must name at least one security group (omit the key for the VPC's default group)",
                    at(4, 19)
                ),
                format!(
                    "{}instance[0].eni[0].security_groups has 6 security groups; AWS allows at most 5 per network interface",
                    at(8, 19)
                ),
                format!(
                    "{}instance[1].security_groups[2] \"g1\" is already security_groups[0]",
                    at(13, 37)
                ),
            ]
        );
        let t = ok(&format!(
            "[[instance]]\nname = \"i\"\nsubnet = \"a\"\nsecurity_groups = [\"g3\", \"default\"]\n\n[[instance.eni]]\nsubnet = \"b\"\nsecurity_groups = [\"g1\", \"g2\", \"g3\", \"g4\", \"g5\"]\n\n[[instance.eni]]\nsubnet = \"b\"\n\n[[instance]]\nname = \"j\"\nsubnet = \"o\"\n\n{groups}"
        ));
        let ids =
            |e: usize| -> Vec<u32> { t.enis[e].security_groups.iter().map(|g| g.0).collect() };
        // Groups g1..g6 are 0..5; main's implicit default is 6, other's 7.
        assert_eq!(ids(0), [2, 6]);
        assert_eq!(ids(1), [0, 1, 2, 3, 4]);
        assert_eq!(ids(2), [6]);
        assert_eq!(ids(3), [7]);
    }

    #[test]
    fn connection_tracking_timeouts_are_within_aws_ranges() {
        let e = errors(concat!(
            "[[instance]]\nname = \"i\"\nsubnet = \"a\"\n",
            "connection_tracking = { tcp_established_timeout = 59, udp_stream_timeout = 181, udp_timeout = 61 }\n",
            "[[instance.eni]]\nsubnet = \"b\"\n",
            "connection_tracking = { udp_timeout = 29, tcp_established_timeout = 432001 }\n",
        ));
        assert_eq!(
            e,
            [
                format!(
                    "{}instance[0].connection_tracking.tcp_established_timeout 59 is out of range: AWS allows 60 to 432000 seconds",
                    at(4, 51)
                ),
                format!(
                    "{}instance[0].connection_tracking.udp_stream_timeout 181 is out of range: AWS allows 60 to 180 seconds",
                    at(4, 76)
                ),
                format!(
                    "{}instance[0].connection_tracking.udp_timeout 61 is out of range: AWS allows 30 to 60 seconds",
                    at(4, 95)
                ),
                format!(
                    "{}instance[0].eni[0].connection_tracking.udp_timeout 29 is out of range: AWS allows 30 to 60 seconds",
                    at(7, 39)
                ),
                format!(
                    "{}instance[0].eni[0].connection_tracking.tcp_established_timeout 432001 is out of range: AWS allows 60 to 432000 seconds",
                    at(7, 69)
                ),
            ]
        );
        let t = ok(concat!(
            "[[instance]]\nname = \"i\"\nsubnet = \"a\"\n",
            "connection_tracking = { udp_timeout = 60 }\n",
            "[[instance.eni]]\nsubnet = \"b\"\n",
            "connection_tracking = { tcp_established_timeout = 60, udp_stream_timeout = 60, udp_timeout = 30 }\n",
            "[[instance.eni]]\nsubnet = \"b\"\n",
        ));
        let defaults = ConntrackTimeouts::default();
        assert_eq!(
            t.enis[0].conntrack,
            ConntrackTimeouts {
                udp: 60,
                ..defaults
            }
        );
        assert_eq!(
            t.enis[1].conntrack,
            ConntrackTimeouts {
                tcp_established: 60,
                udp_stream: 60,
                udp: 30
            }
        );
        assert_eq!(t.enis[2].conntrack, defaults);
        assert_eq!(
            (defaults.tcp_established, defaults.udp_stream, defaults.udp),
            (432_000, 180, 30)
        );
    }

    fn nacl(extra_keys: &str) -> String {
        format!("[[network_acl]]\nname = \"n\"\nvpc = \"main\"\n{extra_keys}\n")
    }

    #[test]
    fn nacl_rule_numbers_are_1_to_32766_and_unique_per_direction() {
        let e = errors(&nacl(concat!(
            "ingress = [\n",
            "  { rule_number = 100, protocol = \"all\", action = \"allow\", cidr = \"0.0.0.0/0\" },\n",
            "  { rule_number = 100, protocol = \"all\", action = \"deny\", cidr = \"0.0.0.0/0\" },\n",
            "  { rule_number = 0, protocol = \"all\", action = \"deny\", cidr = \"0.0.0.0/0\" },\n",
            "  { rule_number = 32767, protocol = \"all\", action = \"deny\", cidr = \"0.0.0.0/0\" },\n",
            "  { rule_number = 1, protocol = \"tcp\", action = \"permit\", cidr = \"0.0.0.0/0\", icmp_type = 1 },\n",
            "]\n",
            "egress = [{ rule_number = 100, protocol = \"all\", action = \"allow\", cidr = \"0.0.0.0/0\" }]",
        )));
        let range = "is not a NACL rule number (1 to 32766; 32767 is the implicit deny rule `*`)";
        assert_eq!(
            e,
            [
                format!(
                    "{}network_acl[0].ingress[1].rule_number duplicate NACL rule number 100: ingress[0] has it already",
                    at(6, 19)
                ),
                format!(
                    "{}network_acl[0].ingress[2].rule_number 0 {range}",
                    at(7, 19)
                ),
                format!(
                    "{}network_acl[0].ingress[3].rule_number 32767 {range}",
                    at(8, 19)
                ),
                format!(
                    "{}network_acl[0].ingress[4].action \"permit\" is not a rule action (write \"allow\" or \"deny\")",
                    at(9, 49)
                ),
                format!(
                    "{}network_acl[0].ingress[4].icmp_type is only for icmp rules; this rule's protocol is tcp",
                    at(9, 91)
                ),
            ]
        );
        assert_eq!(
            errors(&nacl(
                "ingress = [{ rule_number = 1, protocol = \"all\", action = \"deny\" }]"
            )),
            [format!(
                "{}network_acl[0].ingress[0] missing field `cidr`",
                at(4, 12)
            )]
        );
    }

    #[test]
    fn nacl_rules_are_sorted_and_an_omitted_direction_denies_all() {
        let t = ok(&nacl(concat!(
            "subnets = [\"b\"]\n",
            "ingress = [\n",
            "  { rule_number = 300, protocol = \"tcp\", action = \"allow\", cidr = \"0.0.0.0/0\", from_port = 1024, to_port = 65535 },\n",
            "  { rule_number = 100, protocol = \"all\", action = \"deny\", cidr = \"10.0.1.0/24\" },\n",
            "  { rule_number = 200, protocol = \"all\", action = \"allow\", cidr = \"0.0.0.0/0\" },\n",
            "]",
        )));
        let n = &t.network_acls[0];
        assert!(n.declared && !n.default);
        assert_eq!(
            n.ingress,
            [
                nacl_rule(100, RuleAction::Deny, "10.0.1.0/24"),
                nacl_rule(200, RuleAction::Allow, "0.0.0.0/0"),
                NaclRule {
                    protocol: Protocol::TCP,
                    l4: L4Match::Ports(PortRange {
                        from: 1024,
                        to: 65535
                    }),
                    ..nacl_rule(300, RuleAction::Allow, "0.0.0.0/0")
                },
            ]
        );
        assert!(n.egress.is_empty());
        // Subnet b is associated with it; a uses main's implicit default (after n).
        assert_eq!(t.subnets[1].network_acl, NetworkAclId(0));
        assert_eq!(t.subnets[0].network_acl, NetworkAclId(1));
        assert_eq!(t.vpcs[0].default_network_acl, NetworkAclId(1));
        assert_eq!(t.network_acls[1].name, "default");
        assert!(t.network_acls[1].default && !t.network_acls[1].declared);
    }

    #[test]
    fn a_declared_default_nacl_allows_all_where_its_rules_are_omitted() {
        let t = ok(concat!(
            "[[network_acl]]\nname = \"default\"\nvpc = \"main\"\n",
            "ingress = [{ rule_number = 50, protocol = \"all\", action = \"deny\", cidr = \"192.0.2.0/24\" }]\n",
        ));
        let n = &t.network_acls[0];
        assert!(n.default && n.declared);
        assert_eq!(n.ingress, [nacl_rule(50, RuleAction::Deny, "192.0.2.0/24")]);
        assert_eq!(n.egress, [nacl_rule(100, RuleAction::Allow, "0.0.0.0/0")]);
        assert_eq!(t.subnets[0].network_acl, NetworkAclId(0));
        assert_eq!(t.subnets[2].network_acl, NetworkAclId(1));
    }

    #[test]
    fn a_subnet_has_at_most_one_nacl_of_its_own_vpc() {
        let e = errors(concat!(
            "[[network_acl]]\nname = \"n1\"\nvpc = \"main\"\nsubnets = [\"a\", \"o\"]\n\n",
            "[[network_acl]]\nname = \"n2\"\nvpc = \"main\"\nsubnets = [\"a\", \"zz\"]\n\n",
            "[[network_acl]]\nname = \"n2\"\nvpc = \"main\"\n",
        ));
        assert_eq!(
            e,
            [
                format!(
                    "{}network_acl[0].subnets[1] subnet \"o\" is in vpc \"other\", the network ACL in vpc \"main\"",
                    at(4, 17)
                ),
                format!(
                    "{}network_acl[1].subnets[0] subnet \"a\" is already associated with network ACL \"n1\"",
                    at(9, 12)
                ),
                format!(
                    "{}network_acl[1].subnets[1] \"zz\" is not a declared subnet",
                    at(9, 17)
                ),
                format!(
                    "{}network_acl[2].name \"n2\" is already the name of network_acl 1 in vpc \"main\"",
                    at(12, 8)
                ),
            ]
        );
    }

    fn flow_log(keys: &str) -> String {
        format!(
            "[[instance]]\nname = \"i\"\nsubnet = \"a\"\n\n[[flow_log]]\nname = \"f\"\nlog_destination = \"f.log\"\n{keys}\n"
        )
    }

    #[test]
    fn flow_logs_cover_one_resource() {
        let e = errors(&flow_log("vpc = \"main\"\nsubnet = \"a\""));
        assert_eq!(
            e,
            [format!(
                "{}flow_log[0] must have exactly one resource: vpc, subnet or network_interface (found 2)",
                at(6, 8)
            )]
        );
        let e = errors(&flow_log("network_interface = \"i/eth1\""));
        assert_eq!(
            e,
            [format!(
                "{}flow_log[0].network_interface \"i/eth1\" is not a network interface (write instance/ethN, e.g. \"fw/eth1\")",
                at(8, 21)
            )]
        );
        for (keys, resource) in [
            ("vpc = \"other\"", FlowLogResource::Vpc(VpcId(1))),
            ("subnet = \"b\"", FlowLogResource::Subnet(SubnetId(1))),
            (
                "network_interface = \"i/eth0\"",
                FlowLogResource::Eni(EniId(0)),
            ),
        ] {
            let t = ok(&flow_log(keys));
            let f = &t.flow_logs[0];
            assert_eq!(f.resource, resource);
            // The defaults.
            assert_eq!(f.traffic_type, TrafficType::All);
            assert_eq!(f.format, DEFAULT_FLOW_LOG_FORMAT);
            assert_eq!(f.max_aggregation_interval, 600);
            assert_eq!(f.destination, "f.log");
            assert_eq!(f.version(), 2);
        }
        let t = ok(&flow_log("vpc = \"main\""));
        assert_eq!(
            t.flow_log_enis(FlowLogId(0)).collect::<Vec<_>>(),
            [EniId(0)]
        );
    }

    #[test]
    fn flow_log_settings_are_aws_values() {
        let e = errors(&flow_log(concat!(
            "vpc = \"main\"\n",
            "traffic_type = \"all\"\n",
            "max_aggregation_interval = 300\n",
            "[[flow_log]]\nname = \"f\"\nvpc = \"main\"\nlog_destination = \" \"\n",
        )));
        assert_eq!(
            e,
            [
                format!(
                    "{}flow_log[0].traffic_type \"all\" is not a traffic type (write \"ACCEPT\", \"REJECT\" or \"ALL\")",
                    at(9, 16)
                ),
                format!(
                    "{}flow_log[0].max_aggregation_interval 300 is not an aggregation interval (AWS allows 60 or 600 seconds)",
                    at(10, 28)
                ),
                format!(
                    "{}flow_log[1].name \"f\" is already the name of flow_log 0",
                    at(12, 8)
                ),
                format!("{}flow_log[1].log_destination must name a file", at(14, 19)),
            ]
        );
        let t = ok(&flow_log(
            "subnet = \"a\"\ntraffic_type = \"REJECT\"\nmax_aggregation_interval = 60",
        ));
        assert_eq!(t.flow_logs[0].traffic_type, TrafficType::Reject);
        assert_eq!(t.flow_logs[0].max_aggregation_interval, 60);
    }

    #[test]
    fn flow_log_formats_are_known_fields_separated_by_single_spaces() {
        let format = |f: &str| flow_log(&format!("vpc = \"main\"\nlog_format = \"{f}\""));
        assert_eq!(
            errors(&format(
                "${version} ${srcaddr} ${bogus} ${srcaddr}  $dstaddr"
            )),
            [
                format!(
                    "{}flow_log[0].log_format \"bogus\" is not a flow log field (fields are e.g. version, interface-id, srcaddr, dstaddr, srcport, dstport, protocol, action, vpc-id, tcp-flags, flow-direction; see docs/config.md)",
                    at(9, 37)
                ),
                format!(
                    "{}flow_log[0].log_format ${{srcaddr}} appears twice",
                    at(9, 46)
                ),
                format!(
                    "{}flow_log[0].log_format \"\" is not a field: write ${{field}} fields separated by single spaces",
                    at(9, 57)
                ),
                format!(
                    "{}flow_log[0].log_format \"$dstaddr\" is not a field: write ${{field}} fields separated by single spaces",
                    at(9, 58)
                ),
            ]
        );
        assert_eq!(
            errors(&format("")),
            [format!(
                "{}flow_log[0].log_format must have at least one field, like \"${{version}} ${{srcaddr}}\"",
                at(9, 14)
            )]
        );
        // With an escape in the string, problems point at the string.
        assert_eq!(
            errors(&format("${version}\\u0020${nope}")),
            [format!(
                "{}flow_log[0].log_format \"nope\" is not a flow log field (fields are e.g. version, interface-id, srcaddr, dstaddr, srcport, dstport, protocol, action, vpc-id, tcp-flags, flow-direction; see docs/config.md)",
                at(9, 14)
            )]
        );
        let t = ok(&format(
            "${version} ${flow-direction} ${pkt-srcaddr} ${action}",
        ));
        assert_eq!(
            t.flow_logs[0].format,
            [
                FlowLogField::Version,
                FlowLogField::FlowDirection,
                FlowLogField::PktSrcAddr,
                FlowLogField::Action
            ]
        );
        assert_eq!(t.flow_logs[0].version(), 5);
    }

    #[test]
    fn one_run_reports_every_security_problem() {
        let e = errors(concat!(
            "[[security_group]]\nname = \"s\"\nvpc = \"nowhere\"\n",
            "ingress = [{ protocol = \"gre\", security_group = \"x\" }]\n\n",
            "[[network_acl]]\nname = \"n\"\nvpc = \"main\"\n",
            "egress = [{ rule_number = 0, protocol = \"all\", action = \"allow\", cidr = \"0/0\" }]\n",
        ));
        assert_eq!(
            e,
            [
                format!(
                    "{}security_group[0].vpc \"nowhere\" is not a declared vpc",
                    at(3, 7)
                ),
                format!(
                    "{}security_group[0].ingress[0].protocol \"gre\" is not a protocol (write \"tcp\", \"udp\", \"icmp\", \"all\" or \"-1\", or a protocol number from 0 to 255)",
                    at(4, 25)
                ),
                format!(
                    "{}network_acl[0].egress[0].rule_number 0 is not a NACL rule number (1 to 32766; 32767 is the implicit deny rule `*`)",
                    at(9, 27)
                ),
                format!(
                    "{}network_acl[0].egress[0].cidr \"0/0\" is not an IPv4 CIDR block (like 10.0.0.0/16)",
                    at(9, 73)
                ),
            ]
        );
    }

    #[test]
    fn rules_and_timeouts_may_be_written_as_tables() {
        let t = ok(concat!(
            "[[instance]]\nname = \"i\"\nsubnet = \"a\"\nsecurity_groups = [\"s\"]\n",
            "[instance.connection_tracking]\nudp_timeout = 45\n\n",
            "[[security_group]]\nname = \"s\"\nvpc = \"main\"\n",
            "[[security_group.ingress]]\nprotocol = \"tcp\"\nport = 22\ncidr = \"10.0.0.0/16\"\n",
            "[[security_group.ingress]]\nprotocol = \"all\"\nsecurity_group = \"s\"\n\n",
            "[[network_acl]]\nname = \"n\"\nvpc = \"main\"\n",
            "[[network_acl.egress]]\nrule_number = 10\nprotocol = \"all\"\naction = \"allow\"\ncidr = \"0.0.0.0/0\"\n",
        ));
        assert_eq!(t.enis[0].conntrack.udp, 45);
        assert_eq!(t.enis[0].security_groups, [SecurityGroupId(0)]);
        assert_eq!(t.security_groups[0].ingress.len(), 2);
        assert_eq!(
            t.network_acls[0].egress,
            [nacl_rule(10, RuleAction::Allow, "0.0.0.0/0")]
        );
        // Too many rules in table form are reported too.
        let mut many = String::from("[[network_acl]]\nname = \"n\"\nvpc = \"main\"\n");
        for n in 1..=21 {
            many += &format!(
                "[[network_acl.ingress]]\nrule_number = {n}\nprotocol = \"all\"\naction = \"deny\"\ncidr = \"0.0.0.0/0\"\n"
            );
        }
        let e = errors(&many);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains(
                "network_acl[0].ingress has 21 rules; AWS allows at most 20 per direction per network ACL"
            ),
            "{e:?}"
        );
    }

    #[test]
    fn the_demo_has_groups_a_nacl_and_a_flow_log() {
        let t = Topology::demo();
        let group = |name: &str| -> SecurityGroupId {
            let i = t.security_groups.iter().position(|g| g.name == name);
            SecurityGroupId(i.unwrap_or_else(|| panic!("no group {name}")) as u32)
        };
        let eni = |name: &str| t.eni(t.find_eni(name).unwrap());
        assert_eq!(eni("web").security_groups, [group("web-sg")]);
        assert_eq!(eni("app/eth0").security_groups, [group("app-sg")]);
        assert_eq!(eni("db").security_groups, [group("db-sg")]);
        assert!(
            t.enis
                .iter()
                .all(|e| e.conntrack == ConntrackTimeouts::default())
        );

        let any = SgPeer::Cidr(net("0.0.0.0/0"));
        let vpc = SgPeer::Cidr(net("10.0.0.0/16"));
        let port = |p| L4Match::Ports(PortRange { from: p, to: p });
        let web = t.security_group(group("web-sg"));
        let rules: Vec<(Protocol, L4Match, SgPeer)> = web
            .ingress
            .iter()
            .map(|r| (r.protocol, r.l4, r.peer))
            .collect();
        assert_eq!(
            rules,
            [
                (Protocol::TCP, port(80), any),
                (Protocol::TCP, port(22), vpc),
                (Protocol::ICMP, L4Match::Any, vpc),
            ]
        );
        assert_eq!(web.egress, [sg_rule(Protocol::All, L4Match::Any, any)]);
        let app = t.security_group(group("app-sg"));
        assert_eq!(
            app.ingress,
            [
                sg_rule(Protocol::TCP, port(8080), SgPeer::Group(group("web-sg"))),
                sg_rule(Protocol::ICMP, L4Match::Any, vpc),
            ]
        );
        let db = t.security_group(group("db-sg"));
        assert_eq!(
            db.ingress,
            [sg_rule(
                Protocol::TCP,
                port(5432),
                SgPeer::Group(group("app-sg"))
            )]
        );
        // The VPC's implicit default group comes after the declared ones.
        let default = t.security_group(t.vpcs[0].default_security_group);
        assert!(default.default && !default.declared && default.name == "default");
        assert_eq!(t.security_groups.len(), 4);

        let nacl_of = |subnet: &str| {
            let s = t.subnets.iter().find(|s| s.name == subnet).unwrap();
            t.network_acl(s.network_acl)
        };
        let private_b = nacl_of("private-b");
        assert_eq!(private_b.name, "private-b-nacl");
        assert_eq!(
            private_b.ingress,
            [
                nacl_rule(100, RuleAction::Deny, "10.0.1.0/24"),
                nacl_rule(200, RuleAction::Allow, "0.0.0.0/0"),
            ]
        );
        assert_eq!(
            private_b.egress,
            [nacl_rule(100, RuleAction::Allow, "0.0.0.0/0")]
        );
        for subnet in ["public-a", "private-a", "public-b"] {
            let n = nacl_of(subnet);
            assert!(n.default && !n.declared, "{subnet}");
        }

        assert_eq!(
            t.flow_logs,
            [FlowLog {
                name: "demo-flows".into(),
                resource: FlowLogResource::Vpc(VpcId(0)),
                traffic_type: TrafficType::All,
                destination: "demo-flows.log".into(),
                format: DEFAULT_FLOW_LOG_FORMAT.to_vec(),
                max_aggregation_interval: 60,
                delivery: None,
            }]
        );
        let names: Vec<&str> = t.flow_logs[0].format.iter().map(|f| f.name()).collect();
        assert_eq!(
            names.join(" "),
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        );
        assert_eq!(t.flow_log_enis(FlowLogId(0)).count(), 3);
    }
}
