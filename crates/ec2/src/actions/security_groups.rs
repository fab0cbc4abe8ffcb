//! `CreateSecurityGroup`, `DescribeSecurityGroups`, `DeleteSecurityGroup`,
//! `AuthorizeSecurityGroupIngress`, `AuthorizeSecurityGroupEgress`,
//! `RevokeSecurityGroupIngress`, `RevokeSecurityGroupEgress`,
//! `DescribeSecurityGroupRules`, `ModifySecurityGroupRules`: a VPC's security groups
//! (`[[security_group]]`) and their rules.
//!
//! AWS's behaviour kept: a new group has no inbound rule and one outbound rule allowing
//! everything to 0.0.0.0/0; a VPC's `default` group cannot be deleted (`CannotDelete`);
//! a group used by a network interface or referenced by another group's rule is a
//! `DependencyViolation`; a rule that exists already is `InvalidPermission.Duplicate`,
//! one that does not `InvalidPermission.NotFound` (also for IPv6 ranges, which vpcd
//! cannot have: Terraform revokes a new group's default `::/0` egress rule after the
//! 0.0.0.0/0 one and takes `InvalidPermission.NotFound` as "nothing to revoke");
//! `DescribeSecurityGroups` groups the rules that share protocol and ports into one
//! `IpPermission`, as AWS does.
//!
//! A rule is its protocol, ports (or ICMP type and code) and peer (a block or a group);
//! its description is not part of it. Its ID (`sgr-`) is derived, never stored: the
//! hash of `sgr/<vpc>/<group>/<ingress|egress>/<protocol>/<ports>/<peer>` (the peer a
//! block or a group ID; a second identical rule, possible only in a hand-written
//! file, adds `#1`), so it is the same in every call and after a restart, and a rule
//! revoked and authorized again gets its ID back. `ModifySecurityGroupRules` keeps the
//! ID when only the description changes; a changed protocol, port or peer makes it
//! another rule with another ID (AWS keeps the ID). Group names are vpc-config names
//! (1 to 48 letters, digits, `-`, `_`, `.`). Rule tags (`TagSpecification` of
//! `AuthorizeSecurityGroup*`) are kept under the rule's ID. A group's tags are shown as
//! set: its name is its `groupName`, not a `Name` tag.

use std::collections::HashMap;

use vpc_config::{
    L4Match, MAX_DESCRIPTION_LEN, MAX_SG_RULES, PortRange, Protocol, SecurityGroup,
    SecurityGroupId, SgPeer, SgRule, Topology, VpcId,
};

use super::vpcs::parse_block;
use super::{Ctx, Outcome, array, commit, drop_document_tags, drop_tags, edit_document, key};
use super::{set_tags, tag_set, valid_name};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::params::Params;
use crate::xml::Xml;

/// The direction of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Ingress,
    Egress,
}

impl Dir {
    fn name(self) -> &'static str {
        match self {
            Dir::Ingress => "ingress",
            Dir::Egress => "egress",
        }
    }

    fn rules(self, g: &SecurityGroup) -> &Vec<SgRule> {
        match self {
            Dir::Ingress => &g.ingress,
            Dir::Egress => &g.egress,
        }
    }

    fn rules_mut(self, g: &mut SecurityGroup) -> &mut Vec<SgRule> {
        match self {
            Dir::Ingress => &mut g.ingress,
            Dir::Egress => &mut g.egress,
        }
    }
}

/// The identifying name of group `i`: `<vpc>/<name>`.
fn ident(t: &Topology, i: usize) -> String {
    let g = &t.security_groups[i];
    format!("{}/{}", t.vpc(g.vpc).name, g.name)
}

/// The ID of group `i`.
pub fn group_id(t: &Topology, i: usize) -> String {
    ids::id(Kind::SecurityGroup, &ident(t, i))
}

/// The owner of group `i`: its VPC's.
fn owner(t: &Topology, i: usize) -> &str {
    &t.vpc(t.security_groups[i].vpc).owner_id
}

/// The tags of resource `id` as set (no `Name` made up from the name).
fn raw_tags(t: &Topology, id: &str) -> Vec<(String, String)> {
    t.tags
        .get(id)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Whether two rules are the same rule (descriptions aside).
fn same(a: &SgRule, b: &SgRule) -> bool {
    a.protocol == b.protocol && a.l4 == b.l4 && a.peer == b.peer
}

/// A rule's canonical text: `<protocol>/<ports>/<peer>`.
fn canonical(t: &Topology, r: &SgRule) -> String {
    let l4 = match r.l4 {
        L4Match::Any => "any".to_owned(),
        L4Match::Ports(p) => format!("{}-{}", p.from, p.to),
        L4Match::Icmp { icmp_type, code } => format!(
            "icmp:{}:{}",
            icmp_type.map_or(-1, i64::from),
            code.map_or(-1, i64::from)
        ),
    };
    let peer = match r.peer {
        SgPeer::Cidr(c) => c.to_string(),
        SgPeer::Group(g) => group_id(t, g.index()),
        SgPeer::PrefixList(s) => super::endpoints::prefix_list_id_of(t, s),
    };
    format!("{}/{l4}/{peer}", r.protocol)
}

/// The IDs of group `i`'s rules of direction `d`, in order.
fn rule_ids(t: &Topology, i: usize, d: Dir) -> Vec<String> {
    let base = format!("sgr/{}/{}", ident(t, i), d.name());
    let mut seen: HashMap<String, usize> = HashMap::new();
    d.rules(&t.security_groups[i])
        .iter()
        .map(|r| {
            let c = canonical(t, r);
            let n = seen.entry(c.clone()).or_insert(0);
            let text = if *n == 0 {
                format!("{base}/{c}")
            } else {
                format!("{base}/{c}#{n}")
            };
            *n += 1;
            ids::hashed(Kind::SecurityGroupRule, &text)
        })
        .collect()
}

/// The protocol as AWS shows it: `-1`, `tcp`, `udp`, `icmp`, or a number.
fn ip_protocol(p: Protocol) -> String {
    match p {
        Protocol::All => "-1".to_owned(),
        p => p.to_string(),
    }
}

/// `fromPort`/`toPort` as `IpPermission` shows them: TCP and UDP ports, ICMP type and
/// code (-1: every one); none for other protocols.
fn ports(p: Protocol, l4: L4Match) -> Option<(i64, i64)> {
    match l4 {
        L4Match::Ports(r) => Some((r.from.into(), r.to.into())),
        L4Match::Icmp { icmp_type, code } => {
            Some((icmp_type.map_or(-1, i64::from), code.map_or(-1, i64::from)))
        }
        L4Match::Any if p.has_ports() => Some((0, 65535)),
        L4Match::Any if p == Protocol::ICMP => Some((-1, -1)),
        L4Match::Any => None,
    }
}

/// A protocol and ports as a request gives them, in vpc-config's canonical form.
pub(super) fn parse_l4(
    proto: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<(Protocol, L4Match), ApiError> {
    let protocol = Protocol::from_name(&proto.to_ascii_lowercase()).ok_or_else(|| {
        ApiError::invalid_value(format!(
            "Invalid value '{proto}' for IP protocol. Unknown protocol."
        ))
    })?;
    let l4 = if protocol.has_ports() {
        let range = match (from, to) {
            (None, None) | (Some(-1), Some(-1)) => PortRange::ALL,
            (Some(f), Some(t)) => match (u16::try_from(f), u16::try_from(t)) {
                (Ok(from), Ok(to)) if from <= to => PortRange { from, to },
                _ => {
                    return Err(ApiError::invalid_value(format!(
                        "Invalid port range: from port {f}, to port {t} (0 to 65535, from <= to)"
                    )));
                }
            },
            _ => {
                return Err(ApiError::invalid_value(
                    "Invalid port range: give both FromPort and ToPort",
                ));
            }
        };
        if range == PortRange::ALL {
            L4Match::Any
        } else {
            L4Match::Ports(range)
        }
    } else if protocol == Protocol::ICMP {
        let one = |v: Option<i64>, what: &str| -> Result<Option<u8>, ApiError> {
            match v {
                None | Some(-1) => Ok(None),
                Some(n) => u8::try_from(n).map(Some).map_err(|_| {
                    ApiError::invalid_value(format!("Invalid ICMP {what}: {n} (0 to 255, or -1)"))
                }),
            }
        };
        match (one(from, "type")?, one(to, "code")?) {
            (None, None) => L4Match::Any,
            (None, Some(_)) => {
                return Err(ApiError::invalid_value(
                    "Invalid ICMP code: a code needs a specific ICMP type",
                ));
            }
            (icmp_type, code) => L4Match::Icmp { icmp_type, code },
        }
    } else {
        L4Match::Any
    };
    Ok((protocol, l4))
}

/// One `IpPermission` of a request: a protocol and ports, and its peers with their
/// descriptions.
struct Permission {
    protocol: Protocol,
    l4: L4Match,
    peers: Vec<(SgPeer, Option<String>)>,
    /// It named IPv6 ranges or prefix lists, which vpcd cannot have.
    unsupported: Option<&'static str>,
}

impl Permission {
    fn rules(&self) -> Vec<SgRule> {
        self.peers
            .iter()
            .map(|(peer, description)| SgRule {
                protocol: self.protocol,
                l4: self.l4,
                peer: *peer,
                description: description.clone(),
            })
            .collect()
    }
}

/// A description of at most 255 characters, if given.
fn description(p: &Params, name: &str) -> Result<Option<String>, ApiError> {
    match p.str(name) {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_LEN => Err(ApiError::invalid_value(
            format!("Invalid rule description: at most {MAX_DESCRIPTION_LEN} characters"),
        )),
        d => Ok(d.map(str::to_owned)),
    }
}

/// The group `name` in VPC `vpc`, as the caller sees it.
fn by_name(ctx: &Ctx<'_>, vpc: VpcId, name: &str) -> Result<usize, ApiError> {
    let t = ctx.t;
    t.security_groups
        .iter()
        .position(|g| g.vpc == vpc && g.name == name)
        .ok_or_else(|| {
            ApiError::new(
                "InvalidGroup.NotFound",
                format!(
                    "The security group '{name}' does not exist in VPC '{}'",
                    ids::id(Kind::Vpc, &t.vpc(vpc).name)
                ),
            )
        })
}

/// A referenced group (`Groups.N`, `SourceSecurityGroupName`, `ReferencedGroupId`):
/// by ID, or by name in the rule's own VPC.
fn peer_group(
    ctx: &Ctx<'_>,
    own: usize,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<SgPeer, ApiError> {
    let i = match (id, name) {
        (Some(id), _) => ctx.find(Kind::SecurityGroup, id)?,
        (None, Some(name)) => by_name(ctx, ctx.t.security_groups[own].vpc, name)?,
        (None, None) => {
            return Err(ApiError::missing(
                "The request must contain the parameter IpPermissions.N.Groups.N.GroupId",
            ));
        }
    };
    Ok(SgPeer::Group(SecurityGroupId(i as u32)))
}

/// The permissions of a request: `IpPermissions.N`, or the legacy top-level
/// `IpProtocol`, `FromPort`, `ToPort`, `CidrIp`, `SourceSecurityGroupName`.
fn permissions(ctx: &Ctx<'_>, own: usize) -> Result<Vec<Permission>, ApiError> {
    let p = ctx.p;
    let mut out = Vec::new();
    for perm in p.list("IpPermissions") {
        let proto = perm.str("IpProtocol").ok_or_else(|| {
            ApiError::missing("The request must contain the parameter IpPermissions.N.IpProtocol")
        })?;
        let (protocol, l4) = parse_l4(proto, perm.int("FromPort")?, perm.int("ToPort")?)?;
        let mut peers = Vec::new();
        for range in perm.list("IpRanges") {
            let cidr = range.str("CidrIp").ok_or_else(|| {
                ApiError::missing(
                    "The request must contain the parameter IpPermissions.N.IpRanges.N.CidrIp",
                )
            })?;
            let cidr = parse_block(cidr, "cidrIp")?;
            peers.push((SgPeer::Cidr(cidr), description(range, "Description")?));
        }
        for pair in perm.list("Groups") {
            let peer = peer_group(ctx, own, pair.str("GroupId"), pair.str("GroupName"))?;
            peers.push((peer, description(pair, "Description")?));
        }
        for pl in perm.list("PrefixListIds") {
            let vpc = ctx.t.security_groups[own].vpc;
            let peer = super::endpoints::prefix_list_peer(ctx, vpc, pl.str("PrefixListId"))?;
            peers.push((peer, description(pl, "Description")?));
        }
        let unsupported = if !perm.list("Ipv6Ranges").is_empty() {
            Some("IPv6 ranges")
        } else {
            None
        };
        out.push(Permission {
            protocol,
            l4,
            peers,
            unsupported,
        });
    }
    let legacy = ["IpProtocol", "CidrIp", "SourceSecurityGroupName"]
        .iter()
        .any(|k| p.str(k).is_some());
    if out.is_empty() && legacy {
        let (protocol, l4) = parse_l4(
            p.str("IpProtocol").unwrap_or("-1"),
            p.int("FromPort")?,
            p.int("ToPort")?,
        )?;
        let mut peers = Vec::new();
        if let Some(cidr) = p.str("CidrIp") {
            peers.push((SgPeer::Cidr(parse_block(cidr, "cidrIp")?), None));
        }
        if let Some(name) = p.str("SourceSecurityGroupName") {
            peers.push((peer_group(ctx, own, None, Some(name))?, None));
        }
        out.push(Permission {
            protocol,
            l4,
            peers,
            unsupported: None,
        });
    }
    Ok(out)
}

/// The group of `GroupId` (or `GroupName`, if it names one group the caller sees).
fn target(ctx: &Ctx<'_>) -> Result<usize, ApiError> {
    if let Some(id) = ctx.p.str("GroupId") {
        return ctx.find(Kind::SecurityGroup, id);
    }
    let Some(name) = ctx.p.str("GroupName") else {
        return Err(ApiError::missing(
            "The request must contain the parameter GroupId",
        ));
    };
    let found: Vec<usize> = (0..ctx.t.security_groups.len())
        .filter(|&i| ctx.sees(Kind::SecurityGroup, i) && ctx.t.security_groups[i].name == name)
        .collect();
    match found[..] {
        [i] => Ok(i),
        [] => Err(ApiError::new(
            "InvalidGroup.NotFound",
            format!("The security group '{name}' does not exist"),
        )),
        _ => Err(ApiError::invalid_value(format!(
            "The security group name '{name}' is in several VPCs: give GroupId"
        ))),
    }
}

/// AWS's text of a rule in error messages.
fn rule_text(t: &Topology, r: &SgRule) -> String {
    let peer = match r.peer {
        SgPeer::Cidr(c) => c.to_string(),
        SgPeer::Group(g) => group_id(t, g.index()),
        SgPeer::PrefixList(s) => super::endpoints::prefix_list_id_of(t, s),
    };
    let ports = match ports(r.protocol, r.l4) {
        Some((f, to)) => format!(", from port: {f}, to port: {to}"),
        None => String::new(),
    };
    format!(
        "peer: {peer}, {}{ports}, ALLOW",
        ip_protocol(r.protocol).to_uppercase()
    )
}

/// A `SecurityGroupRule` (`isEgress`, protocol, ports, peer, description, tags).
fn rule_xml(t: &Topology, x: &mut Xml, i: usize, d: Dir, r: &SgRule, id: &str) {
    let vpc = t.vpc(t.security_groups[i].vpc);
    x.leaf("securityGroupRuleId", id)
        .leaf("groupId", group_id(t, i))
        .leaf("groupOwnerId", &vpc.owner_id)
        .leaf("isEgress", d == Dir::Egress)
        .leaf("ipProtocol", ip_protocol(r.protocol));
    let (from, to) = ports(r.protocol, r.l4).unwrap_or((-1, -1));
    x.leaf("fromPort", from).leaf("toPort", to);
    match r.peer {
        SgPeer::Cidr(c) => {
            x.leaf("cidrIpv4", c);
        }
        SgPeer::PrefixList(s) => {
            x.leaf("prefixListId", super::endpoints::prefix_list_id_of(t, s));
        }
        SgPeer::Group(g) => {
            x.open("referencedGroupInfo")
                .leaf("groupId", group_id(t, g.index()))
                .leaf("userId", owner(t, g.index()));
            let peer_vpc = t.security_groups[g.index()].vpc;
            if peer_vpc != t.security_groups[i].vpc {
                x.leaf("vpcId", ids::id(Kind::Vpc, &t.vpc(peer_vpc).name));
            }
            x.close("referencedGroupInfo");
        }
    }
    x.opt("description", r.description.as_ref());
    tag_set(x, &raw_tags(t, id));
    x.leaf(
        "securityGroupRuleArn",
        format!(
            "arn:aws:ec2:{}:{}:security-group-rule/{id}",
            vpc.region, vpc.owner_id
        ),
    );
}

/// The `IpPermission`s of `rules`: the rules of one protocol and ports together, in the
/// order of their first rule.
fn permissions_xml(t: &Topology, x: &mut Xml, name: &str, own_vpc: VpcId, rules: &[SgRule]) {
    let mut keys: Vec<(Protocol, L4Match)> = Vec::new();
    for r in rules {
        if !keys.contains(&(r.protocol, r.l4)) {
            keys.push((r.protocol, r.l4));
        }
    }
    x.set(name, &keys, |x, &(protocol, l4)| {
        let members: Vec<&SgRule> = rules
            .iter()
            .filter(|r| r.protocol == protocol && r.l4 == l4)
            .collect();
        x.leaf("ipProtocol", ip_protocol(protocol));
        if let Some((from, to)) = ports(protocol, l4) {
            x.leaf("fromPort", from).leaf("toPort", to);
        }
        let groups: Vec<(SecurityGroupId, Option<&String>)> = members
            .iter()
            .filter_map(|r| match r.peer {
                SgPeer::Group(g) => Some((g, r.description.as_ref())),
                SgPeer::Cidr(_) | SgPeer::PrefixList(_) => None,
            })
            .collect();
        x.set("groups", &groups, |x, &(g, d)| {
            x.opt("description", d)
                .leaf("userId", owner(t, g.index()))
                .leaf("groupId", group_id(t, g.index()));
            let vpc = t.security_groups[g.index()].vpc;
            if vpc != own_vpc {
                x.leaf("vpcId", ids::id(Kind::Vpc, &t.vpc(vpc).name));
            }
        });
        let ranges: Vec<_> = members
            .iter()
            .filter_map(|r| match r.peer {
                SgPeer::Cidr(c) => Some((c, r.description.as_ref())),
                SgPeer::Group(_) | SgPeer::PrefixList(_) => None,
            })
            .collect();
        x.set("ipRanges", &ranges, |x, (c, d)| {
            x.leaf("cidrIp", c).opt("description", *d);
        });
        x.set("ipv6Ranges", &[] as &[()], |_, _| {});
        let lists: Vec<_> = members
            .iter()
            .filter_map(|r| match r.peer {
                SgPeer::PrefixList(s) => Some((s, r.description.as_ref())),
                _ => None,
            })
            .collect();
        x.set("prefixListIds", &lists, |x, &(s, d)| {
            x.opt("description", d)
                .leaf("prefixListId", super::endpoints::prefix_list_id_of(t, s));
        });
    });
}

/// The description of group `i` as shown (a default group without one: AWS's).
fn group_description(g: &SecurityGroup) -> &str {
    match &g.description {
        Some(d) => d,
        None if g.default => "default VPC security group",
        None => "",
    }
}

/// The `SecurityGroup` structure of group `i`.
fn group_xml(t: &Topology, x: &mut Xml, i: usize) {
    let g = &t.security_groups[i];
    let vpc = t.vpc(g.vpc);
    let id = group_id(t, i);
    x.leaf("ownerId", &vpc.owner_id)
        .leaf("groupId", &id)
        .leaf("groupName", &g.name)
        .leaf("groupDescription", group_description(g));
    permissions_xml(t, x, "ipPermissions", g.vpc, &g.ingress);
    permissions_xml(t, x, "ipPermissionsEgress", g.vpc, &g.egress);
    x.leaf("vpcId", ids::id(Kind::Vpc, &vpc.name));
    tag_set(x, &raw_tags(t, &id));
    x.leaf("securityGroupArn", arn(t, i));
}

/// The group's ARN.
fn arn(t: &Topology, i: usize) -> String {
    let vpc = t.vpc(t.security_groups[i].vpc);
    format!(
        "arn:aws:ec2:{}:{}:security-group/{}",
        vpc.region,
        vpc.owner_id,
        group_id(t, i)
    )
}

/// `CreateSecurityGroup`: `GroupName`, `GroupDescription` (the CLI's `--description`),
/// `VpcId`, `TagSpecification.N` (`security-group`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let name = p.required("GroupName")?;
    let desc = p
        .str("GroupDescription")
        .or_else(|| p.str("Description"))
        .ok_or_else(|| {
            ApiError::missing("The request must contain the parameter GroupDescription")
        })?;
    if desc.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(ApiError::invalid_value(format!(
            "Value for parameter GroupDescription is invalid: at most {MAX_DESCRIPTION_LEN} characters"
        )));
    }
    let Some(vpc_id) = p.str("VpcId") else {
        return Err(ApiError::new(
            "VPCIdNotSpecified",
            "No default VPC for this user: give VpcId",
        ));
    };
    let v = ctx.find(Kind::Vpc, vpc_id)?;
    let t = ctx.t;
    if name.to_ascii_lowercase().starts_with("sg-") {
        return Err(ApiError::invalid_value(
            "Group names may not be in the format sg-*",
        ));
    }
    if !valid_name(name) {
        return Err(ApiError::invalid_value(format!(
            "Value ({name}) for parameter GroupName is invalid: vpcd accepts 1 to 48 letters, digits, '-', '_' and '.', starting with a letter or digit"
        )));
    }
    let vpc_name = t.vpcs[v].name.clone();
    if t.security_groups
        .iter()
        .any(|g| g.vpc.index() == v && g.name == name)
    {
        return Err(ApiError::new(
            "InvalidGroup.Duplicate",
            format!(
                "The security group '{name}' already exists for VPC '{}'",
                ids::id(Kind::Vpc, &vpc_name)
            ),
        ));
    }
    let tags = ctx.tag_specifications(Kind::SecurityGroup)?;
    let mut new = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.into());
        table.insert("vpc".into(), vpc_name.clone().into());
        table.insert("description".into(), desc.into());
        array(doc, "security_group").push(toml::Value::Table(table));
    })?;
    let id = ids::id(Kind::SecurityGroup, &format!("{vpc_name}/{name}"));
    set_tags(&mut new, &id, &tags);
    let new = commit(&new)?;
    let i = ids::resolve(&new, Kind::SecurityGroup, &id)
        .ok_or_else(|| ApiError::invalid_value("the new security group was not created"))?;
    let mut x = Xml::new();
    x.leaf("groupId", &id);
    tag_set(&mut x, &raw_tags(&new, &id));
    x.leaf("securityGroupArn", arn(&new, i));
    Outcome::changed(x.finish(), new)
}

/// A group as `DescribeSecurityGroups` filters it.
struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let g = &t.security_groups[self.index];
        let one = |s: String| Some(vec![s]);
        let (rules, field) = match name.strip_prefix("egress.") {
            Some(rest) if rest.starts_with("ip-permission.") => (&g.egress, rest),
            Some(_) => return None,
            None => (&g.ingress, name),
        };
        let each =
            |f: &dyn Fn(&SgRule) -> Option<String>| Some(rules.iter().filter_map(f).collect());
        match field {
            "group-id" => one(group_id(t, self.index)),
            "group-name" => one(g.name.clone()),
            "description" => one(group_description(g).to_owned()),
            "vpc-id" => one(ids::id(Kind::Vpc, &t.vpc(g.vpc).name)),
            "owner-id" => one(owner(t, self.index).to_owned()),
            "ip-permission.protocol" => each(&|r| Some(ip_protocol(r.protocol))),
            "ip-permission.from-port" => {
                each(&|r| ports(r.protocol, r.l4).map(|p| p.0.to_string()))
            }
            "ip-permission.to-port" => each(&|r| ports(r.protocol, r.l4).map(|p| p.1.to_string())),
            "ip-permission.cidr" => each(&|r| match r.peer {
                SgPeer::Cidr(c) => Some(c.to_string()),
                SgPeer::Group(_) | SgPeer::PrefixList(_) => None,
            }),
            "ip-permission.group-id" => each(&|r| match r.peer {
                SgPeer::Group(p) => Some(group_id(t, p.index())),
                SgPeer::Cidr(_) | SgPeer::PrefixList(_) => None,
            }),
            "ip-permission.group-name" => each(&|r| match r.peer {
                SgPeer::Group(p) => Some(t.security_group(p).name.clone()),
                SgPeer::Cidr(_) | SgPeer::PrefixList(_) => None,
            }),
            "ip-permission.user-id" => each(&|r| match r.peer {
                SgPeer::Group(p) => Some(owner(t, p.index()).to_owned()),
                SgPeer::Cidr(_) | SgPeer::PrefixList(_) => None,
            }),
            "ip-permission.prefix-list-id" => each(&|r| match r.peer {
                SgPeer::PrefixList(s) => Some(super::endpoints::prefix_list_id_of(t, s)),
                _ => None,
            }),
            "ip-permission.ipv6-cidr" => Some(Vec::new()),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// `DescribeSecurityGroups`: `GroupId.N`, `GroupName.N`, `Filter.N`, `MaxResults`,
/// `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let wanted = ctx.p.strings("GroupId");
    let names = ctx.p.strings("GroupName");
    let mut indices: Vec<usize> = Vec::new();
    if wanted.is_empty() && names.is_empty() {
        indices.extend((0..t.security_groups.len()).filter(|&i| ctx.sees(Kind::SecurityGroup, i)));
    }
    for id in &wanted {
        let i = ctx.find(Kind::SecurityGroup, id)?;
        if !indices.contains(&i) {
            indices.push(i);
        }
    }
    for name in &names {
        let found: Vec<usize> = (0..t.security_groups.len())
            .filter(|&i| ctx.sees(Kind::SecurityGroup, i) && t.security_groups[i].name == *name)
            .collect();
        if found.is_empty() {
            return Err(ApiError::new(
                "InvalidGroup.NotFound",
                format!("The security group '{name}' does not exist"),
            ));
        }
        for i in found {
            if !indices.contains(&i) {
                indices.push(i);
            }
        }
    }
    let items: Vec<Item<'_>> = indices
        .into_iter()
        .map(|i| Item {
            index: i,
            tags: raw_tags(t, &group_id(t, i)),
            ctx,
        })
        .collect();
    super::described(ctx, "securityGroupInfo", items, |x, item| {
        group_xml(t, x, item.index)
    })
}

/// `DeleteSecurityGroup`: `GroupId` (or `GroupName`).
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let i = target(ctx)?;
    let t = ctx.t;
    let g = &t.security_groups[i];
    let id = group_id(t, i);
    if g.default {
        return Err(ApiError::new(
            "CannotDelete",
            format!(
                "the specified group: \"{id}\" name: \"{}\" cannot be deleted by a user",
                g.name
            ),
        ));
    }
    let own = SecurityGroupId(i as u32);
    let mut deps = Vec::new();
    for e in t.eni_ids() {
        if t.eni(e).security_groups.contains(&own) {
            deps.push(format!(
                "network interface {}",
                ids::id(Kind::NetworkInterface, &t.eni_name(e).to_string())
            ));
        }
    }
    for (k, other) in t.security_groups.iter().enumerate() {
        if k != i
            && other
                .ingress
                .iter()
                .chain(&other.egress)
                .any(|r| r.peer == SgPeer::Group(own))
        {
            deps.push(format!("security group {}", group_id(t, k)));
        }
    }
    if !deps.is_empty() {
        return Err(ApiError::dependency(format!(
            "resource {id} has a dependent object: {}",
            deps.join(", ")
        )));
    }
    let mut gone = vec![id.clone()];
    gone.extend(rule_ids(t, i, Dir::Ingress));
    gone.extend(rule_ids(t, i, Dir::Egress));
    let (name, vpc) = (g.name.clone(), t.vpc(g.vpc).name.clone());
    let new = edit_document(t, |doc| {
        array(doc, "security_group")
            .retain(|x| !(key(x, "name") == Some(&name) && key(x, "vpc") == Some(&vpc)));
        drop_document_tags(doc, &gone);
    })?;
    let mut x = Xml::new();
    x.leaf("return", true).leaf("groupId", id);
    Outcome::changed(x.finish(), new)
}

/// `AuthorizeSecurityGroupIngress`.
pub fn authorize_ingress(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    authorize(ctx, Dir::Ingress)
}

/// `AuthorizeSecurityGroupEgress`.
pub fn authorize_egress(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    authorize(ctx, Dir::Egress)
}

/// `AuthorizeSecurityGroup{Ingress,Egress}`: `GroupId`, `IpPermissions.N` (or the
/// legacy top-level fields), `TagSpecification.N` (`security-group-rule`).
fn authorize(ctx: &Ctx<'_>, d: Dir) -> Result<Outcome, ApiError> {
    let i = target(ctx)?;
    let t = ctx.t;
    let perms = permissions(ctx, i)?;
    if perms.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter IpPermissions",
        ));
    }
    let mut added: Vec<SgRule> = Vec::new();
    for perm in &perms {
        if let Some(what) = perm.unsupported {
            return Err(ApiError::invalid_value(format!(
                "vpcd does not support {what} in security group rules"
            )));
        }
        if perm.peers.is_empty() {
            return Err(ApiError::invalid_value(
                "missing mandatory parameter: exactly one of remote-security-group, remote-ip-range, remote-ipv6-range, or prefix-list-id must be present.",
            ));
        }
        for rule in perm.rules() {
            let existing = d.rules(&t.security_groups[i]);
            if existing.iter().chain(&added).any(|r| same(r, &rule)) {
                return Err(ApiError::new(
                    "InvalidPermission.Duplicate",
                    format!(
                        "the specified rule \"{}\" already exists",
                        rule_text(t, &rule)
                    ),
                ));
            }
            added.push(rule);
        }
    }
    let tags = ctx.tag_specifications(Kind::SecurityGroupRule)?;
    let mut new = t.clone();
    let g = &mut new.security_groups[i];
    g.declared = true;
    let rules = d.rules_mut(g);
    if rules.len() + added.len() > MAX_SG_RULES {
        return Err(ApiError::new(
            "RulesPerSecurityGroupLimitExceeded",
            format!(
                "The maximum number of rules per security group ({MAX_SG_RULES} per direction) has been reached."
            ),
        ));
    }
    let first = rules.len();
    rules.extend(added.iter().cloned());
    let new_ids: Vec<String> = rule_ids(&new, i, d).split_off(first);
    for id in &new_ids {
        set_tags(&mut new, id, &tags);
    }
    let new = commit(&new)?;
    // The group's index after the commit (an implicit default group may move).
    let gid = group_id(t, i);
    let k = ids::resolve(&new, Kind::SecurityGroup, &gid)
        .ok_or_else(|| ApiError::invalid_value("the security group was lost"))?;
    let all = rule_ids(&new, k, d);
    let rules = d.rules(&new.security_groups[k]);
    let mut x = Xml::new();
    x.leaf("return", true);
    let shown: Vec<usize> = (0..rules.len())
        .filter(|&n| new_ids.contains(&all[n]))
        .collect();
    x.set("securityGroupRuleSet", &shown, |x, &n| {
        rule_xml(&new, x, k, d, &rules[n], &all[n]);
    });
    Outcome::changed(x.finish(), new)
}

/// `RevokeSecurityGroupIngress`.
pub fn revoke_ingress(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    revoke(ctx, Dir::Ingress)
}

/// `RevokeSecurityGroupEgress`.
pub fn revoke_egress(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    revoke(ctx, Dir::Egress)
}

/// `InvalidPermission.NotFound`.
fn permission_not_found() -> ApiError {
    ApiError::new(
        "InvalidPermission.NotFound",
        "The specified rule does not exist in this security group.",
    )
}

/// `RevokeSecurityGroup{Ingress,Egress}`: `GroupId` and `SecurityGroupRuleId.N`, or
/// `IpPermissions.N` (or the legacy top-level fields).
fn revoke(ctx: &Ctx<'_>, d: Dir) -> Result<Outcome, ApiError> {
    let i = target(ctx)?;
    let t = ctx.t;
    let rules = d.rules(&t.security_groups[i]);
    let current = rule_ids(t, i, d);
    let mut remove: Vec<usize> = Vec::new();
    let by_id = ctx.p.strings("SecurityGroupRuleId");
    if !by_id.is_empty() {
        for id in &by_id {
            let n = current.iter().position(|c| c == id).ok_or_else(|| {
                ApiError::new(
                    "InvalidSecurityGroupRuleId.NotFound",
                    format!(
                        "The security group rule ID '{id}' does not exist in the {} rules of {}",
                        d.name(),
                        group_id(t, i)
                    ),
                )
            })?;
            remove.push(n);
        }
    } else {
        let perms = permissions(ctx, i)?;
        if perms.is_empty() {
            return Err(ApiError::missing(
                "The request must contain the parameter IpPermissions or SecurityGroupRuleId",
            ));
        }
        for perm in &perms {
            if perm.unsupported.is_some() || perm.peers.is_empty() {
                return Err(permission_not_found());
            }
            for rule in perm.rules() {
                let n = rules
                    .iter()
                    .position(|r| same(r, &rule))
                    .ok_or_else(permission_not_found)?;
                remove.push(n);
            }
        }
    }
    remove.sort_unstable();
    remove.dedup();
    let mut x = Xml::new();
    x.leaf("return", true);
    x.set("revokedSecurityGroupRuleSet", &remove, |x, &n| {
        let r = &rules[n];
        x.leaf("securityGroupRuleId", &current[n])
            .leaf("groupId", group_id(t, i))
            .leaf("isEgress", d == Dir::Egress)
            .leaf("ipProtocol", ip_protocol(r.protocol));
        let (from, to) = ports(r.protocol, r.l4).unwrap_or((-1, -1));
        x.leaf("fromPort", from).leaf("toPort", to);
        match r.peer {
            SgPeer::Cidr(c) => x.leaf("cidrIpv4", c),
            SgPeer::Group(g) => x.leaf("referencedGroupId", group_id(t, g.index())),
            SgPeer::PrefixList(s) => {
                x.leaf("prefixListId", super::endpoints::prefix_list_id_of(t, s))
            }
        };
        x.opt("description", r.description.as_ref());
    });
    let mut new = t.clone();
    let g = &mut new.security_groups[i];
    g.declared = true;
    let list = d.rules_mut(g);
    for &n in remove.iter().rev() {
        list.remove(n);
    }
    let gone: Vec<String> = remove.iter().map(|&n| current[n].clone()).collect();
    drop_tags(&mut new, &gone);
    // Rules after a removed duplicate may have changed their `#n` suffix: keep their
    // tags with them.
    let after = rule_ids(&new, i, d);
    let kept: Vec<usize> = (0..current.len()).filter(|n| !remove.contains(n)).collect();
    for (pos, &n) in kept.iter().enumerate() {
        if after[pos] != current[n]
            && let Some(tags) = new.tags.remove(&current[n])
        {
            new.tags.insert(after[pos].clone(), tags);
        }
    }
    Outcome::changed(x.finish(), commit(&new)?)
}

/// A rule as `DescribeSecurityGroupRules` filters it.
struct RuleItem {
    group: usize,
    dir: Dir,
    n: usize,
    id: String,
    group_id: String,
    tags: Vec<(String, String)>,
}

impl Filterable for RuleItem {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        match name {
            "group-id" => Some(vec![self.group_id.clone()]),
            "security-group-rule-id" => Some(vec![self.id.clone()]),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// Every rule of the groups the caller sees: each group's inbound, then outbound.
fn all_rules(ctx: &Ctx<'_>) -> Vec<RuleItem> {
    let t = ctx.t;
    let mut out = Vec::new();
    for i in (0..t.security_groups.len()).filter(|&i| ctx.sees(Kind::SecurityGroup, i)) {
        let gid = group_id(t, i);
        for d in [Dir::Ingress, Dir::Egress] {
            for (n, id) in rule_ids(t, i, d).into_iter().enumerate() {
                out.push(RuleItem {
                    group: i,
                    dir: d,
                    n,
                    tags: raw_tags(t, &id),
                    id,
                    group_id: gid.clone(),
                });
            }
        }
    }
    out
}

/// `InvalidSecurityGroupRuleId.NotFound` (`.Malformed` for what cannot be one).
fn rule_not_found(id: &str) -> ApiError {
    if ids::is_well_formed(Kind::SecurityGroupRule, id) {
        ApiError::new(
            "InvalidSecurityGroupRuleId.NotFound",
            format!("The security group rule ID '{id}' does not exist"),
        )
    } else {
        ApiError::new(
            "InvalidSecurityGroupRuleId.Malformed",
            format!("Invalid id: \"{id}\" (expecting \"sgr-...\")"),
        )
    }
}

/// `DescribeSecurityGroupRules`: `SecurityGroupRuleId.N`, `Filter.N` (`group-id`,
/// `security-group-rule-id`, `tag:<key>`, `tag-key`), `MaxResults`, `NextToken`.
pub fn describe_rules(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let mut items = all_rules(ctx);
    let wanted = ctx.p.strings("SecurityGroupRuleId");
    if !wanted.is_empty() {
        for id in &wanted {
            if !items.iter().any(|r| r.id == *id) {
                return Err(rule_not_found(id));
            }
        }
        items.retain(|r| wanted.contains(&r.id));
    }
    super::described(ctx, "securityGroupRuleSet", items, |x, r| {
        let rule = &r.dir.rules(&t.security_groups[r.group])[r.n];
        rule_xml(t, x, r.group, r.dir, rule, &r.id);
    })
}

/// `ModifySecurityGroupRules`: `GroupId`, `SecurityGroupRule.N.SecurityGroupRuleId`
/// and `SecurityGroupRule.N.SecurityGroupRule` (`IpProtocol`, `FromPort`, `ToPort`,
/// `CidrIpv4` or `ReferencedGroupId`, `Description`): each rule replaced in place.
pub fn modify_rules(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let i = target(ctx)?;
    let t = ctx.t;
    let updates = ctx.p.list("SecurityGroupRule");
    if updates.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter SecurityGroupRule",
        ));
    }
    let mut new = t.clone();
    new.security_groups[i].declared = true;
    let mut moved_tags: Vec<(String, Dir, usize)> = Vec::new();
    for u in updates {
        let id = u.required("SecurityGroupRuleId")?;
        let (d, n) = [Dir::Ingress, Dir::Egress]
            .into_iter()
            .find_map(|d| {
                rule_ids(t, i, d)
                    .iter()
                    .position(|c| c == id)
                    .map(|n| (d, n))
            })
            .ok_or_else(|| rule_not_found(id))?;
        let req = u.get("SecurityGroupRule").ok_or_else(|| {
            ApiError::missing(
                "The request must contain the parameter SecurityGroupRule.N.SecurityGroupRule",
            )
        })?;
        if req.str("CidrIpv6").is_some() {
            return Err(ApiError::invalid_value(
                "vpcd does not support IPv6 ranges in security group rules",
            ));
        }
        let proto = req.required("IpProtocol")?;
        let (protocol, l4) = parse_l4(proto, req.int("FromPort")?, req.int("ToPort")?)?;
        let peer = match (
            req.str("CidrIpv4"),
            req.str("ReferencedGroupId"),
            req.str("PrefixListId"),
        ) {
            (Some(c), None, None) => SgPeer::Cidr(parse_block(c, "cidrIpv4")?),
            (None, Some(g), None) => peer_group(ctx, i, Some(g), None)?,
            (None, None, Some(pl)) => {
                let vpc = ctx.t.security_groups[i].vpc;
                super::endpoints::prefix_list_peer(ctx, vpc, Some(pl))?
            }
            _ => {
                return Err(ApiError::invalid_value(
                    "exactly one of CidrIpv4, ReferencedGroupId and PrefixListId must be given",
                ));
            }
        };
        let rule = SgRule {
            protocol,
            l4,
            peer,
            description: description(req, "Description")?,
        };
        let rules = d.rules_mut(&mut new.security_groups[i]);
        if rules
            .iter()
            .enumerate()
            .any(|(k, r)| k != n && same(r, &rule))
        {
            return Err(ApiError::new(
                "InvalidPermission.Duplicate",
                format!(
                    "the specified rule \"{}\" already exists",
                    rule_text(t, &rule)
                ),
            ));
        }
        rules[n] = rule;
        moved_tags.push((id.to_owned(), d, n));
    }
    for (old, d, n) in moved_tags {
        let now = rule_ids(&new, i, d)[n].clone();
        if now != old
            && let Some(tags) = new.tags.remove(&old)
        {
            new.tags.insert(now, tags);
        }
    }
    let new = commit(&new)?;
    Outcome::changed("<return>true</return>".to_owned(), new)
}
