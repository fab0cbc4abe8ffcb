//! `CreateNetworkAcl`, `DescribeNetworkAcls`, `DeleteNetworkAcl`,
//! `CreateNetworkAclEntry`, `ReplaceNetworkAclEntry`, `DeleteNetworkAclEntry`,
//! `ReplaceNetworkAclAssociation`: a VPC's network ACLs (`[[network_acl]]`), their
//! numbered entries and their subnet associations.
//!
//! AWS's behaviour kept: a new NACL denies everything (only the `*` entries, rule
//! 32767, which every NACL shows in both directions); a VPC's default NACL allows
//! everything (rule 100) and cannot be deleted (`InvalidParameterValue`); a NACL
//! associated with a subnet cannot be deleted (`DependencyViolation`); every subnet is
//! associated with exactly one NACL of its VPC, its default one unless replaced, and
//! `ReplaceNetworkAclAssociation` moves it and answers a new association ID; a deleted
//! subnet's association goes with it (`DeleteSubnet`). Entries: rule numbers 1..32766,
//! one per number and direction (`NetworkAclEntryAlreadyExists`,
//! `InvalidNetworkAclEntry.NotFound`), at most 20 per direction
//! (`NetworkAclEntryLimitExceeded`); `protocol` is shown as a number (`-1`, `6`, `17`,
//! `1`); entries are listed outbound first, each direction by rule number, as AWS
//! lists them.
//!
//! IDs: an association's ID is derived from its NACL and subnet
//! (`aclassoc/<vpc>/<nacl>/<subnet>`), so it changes when the subnet moves to another
//! NACL, as AWS's does. `CreateNetworkAcl` with a `ClientToken` (the CLI and the SDKs
//! always send one) names the NACL `acl-` and 17 hex digits of a hash of the account
//! and the token, so that a retry with the same token finds it and answers it again
//! (another VPC is `IdempotentParameterMismatch`); its `Name` tag is then a tag only.
//! Without a token the name is the `Name` tag, as for other resources. A default NACL
//! shows its tags as set (no `Name` tag made up from `default`).

use vpc_config::{
    L4Match, MAX_NACL_RULE, MAX_NACL_RULES, NaclRule, NetworkAcl, NetworkAclId, Protocol,
    RuleAction, Topology, VpcId,
};

use super::security_groups::parse_l4;
use super::vpcs::parse_block;
use super::{
    Ctx, Outcome, array, commit, drop_document_tags, edit_document, key, set_tags, shown_tags,
    tag_set,
};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// The identifying name of NACL `i`: `<vpc>/<name>`.
fn ident(t: &Topology, i: usize) -> String {
    let n = &t.network_acls[i];
    format!("{}/{}", t.vpc(n.vpc).name, n.name)
}

/// The ID of NACL `i`.
fn acl_id(t: &Topology, i: usize) -> String {
    ids::id(Kind::NetworkAcl, &ident(t, i))
}

/// The ID of the association of subnet `s` with its NACL.
fn association_id(t: &Topology, s: usize) -> String {
    let subnet = &t.subnets[s];
    ids::id(
        Kind::NetworkAclAssociation,
        &format!("{}/{}", ident(t, subnet.network_acl.index()), subnet.name),
    )
}

/// The subnets associated with NACL `i`.
fn subnets_of(t: &Topology, i: usize) -> Vec<usize> {
    (0..t.subnets.len())
        .filter(|&s| t.subnets[s].network_acl.index() == i)
        .collect()
}

/// The tags of NACL `i` as shown.
fn tags(t: &Topology, i: usize) -> Vec<(String, String)> {
    if t.network_acls[i].default {
        t.tags
            .get(&acl_id(t, i))
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    } else {
        shown_tags(t, Kind::NetworkAcl, &ident(t, i))
    }
}

/// The `*` entry: rule 32767, deny all.
fn deny_all() -> NaclRule {
    NaclRule {
        number: MAX_NACL_RULE + 1,
        protocol: Protocol::All,
        l4: L4Match::Any,
        cidr: Default::default(),
        action: RuleAction::Deny,
    }
}

/// The entries as AWS lists them: outbound, then inbound, each by number, each ending
/// with `*`.
fn entries(n: &NetworkAcl) -> Vec<(bool, NaclRule)> {
    let mut out = Vec::new();
    for (egress, rules) in [(true, &n.egress), (false, &n.ingress)] {
        out.extend(rules.iter().map(|r| (egress, *r)));
        out.push((egress, deny_all()));
    }
    out
}

/// A protocol as a NACL entry shows it: a number, or `-1`.
fn protocol_number(p: Protocol) -> String {
    match p {
        Protocol::All => "-1".to_owned(),
        Protocol::Number(n) => n.to_string(),
    }
}

fn entry_xml(x: &mut Xml, egress: bool, r: &NaclRule) {
    x.leaf("ruleNumber", r.number)
        .leaf("protocol", protocol_number(r.protocol))
        .leaf("ruleAction", r.action)
        .leaf("egress", egress)
        .leaf("cidrBlock", r.cidr);
    match r.l4 {
        L4Match::Ports(p) => {
            x.open("portRange")
                .leaf("from", p.from)
                .leaf("to", p.to)
                .close("portRange");
        }
        L4Match::Any if r.protocol.has_ports() => {
            x.open("portRange")
                .leaf("from", 0)
                .leaf("to", 65535)
                .close("portRange");
        }
        L4Match::Icmp { icmp_type, code } => {
            x.open("icmpTypeCode")
                .leaf("code", code.map_or(-1, i64::from))
                .leaf("type", icmp_type.map_or(-1, i64::from))
                .close("icmpTypeCode");
        }
        L4Match::Any if r.protocol == Protocol::ICMP => {
            x.open("icmpTypeCode")
                .leaf("code", -1)
                .leaf("type", -1)
                .close("icmpTypeCode");
        }
        L4Match::Any => {}
    }
}

/// The `NetworkAcl` structure of NACL `i`.
fn acl_xml(t: &Topology, x: &mut Xml, i: usize) {
    let n = &t.network_acls[i];
    let vpc = t.vpc(n.vpc);
    let id = acl_id(t, i);
    x.set("associationSet", &subnets_of(t, i), |x, &s| {
        x.leaf("networkAclAssociationId", association_id(t, s))
            .leaf("networkAclId", &id)
            .leaf("subnetId", ids::id(Kind::Subnet, &t.subnets[s].name));
    });
    x.set("entrySet", &entries(n), |x, (egress, r)| {
        entry_xml(x, *egress, r)
    });
    x.leaf("default", n.default)
        .leaf("networkAclId", &id)
        .leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("ownerId", &vpc.owner_id);
    tag_set(x, &tags(t, i));
}

/// `CreateNetworkAcl`: `VpcId`, `ClientToken`, `TagSpecification.N` (`network-acl`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let v = ctx.find(Kind::Vpc, p.required("VpcId")?)?;
    let t = ctx.t;
    let vpc_name = t.vpcs[v].name.clone();
    let tags = ctx.tag_specifications(Kind::NetworkAcl)?;
    let token = p.str("ClientToken").filter(|s| !s.is_empty());
    let answer = |t: &Topology, i: usize| {
        let mut x = Xml::new();
        x.open("networkAcl");
        acl_xml(t, &mut x, i);
        x.close("networkAcl");
        x.opt("clientToken", token);
        x.finish()
    };
    let name = match token {
        Some(token) => {
            let name = ids::hashed(
                Kind::NetworkAcl,
                &format!("acl-token/{}/{token}", ctx.caller.account),
            );
            if let Some(i) = t.network_acls.iter().position(|n| n.name == name) {
                if t.network_acls[i].vpc.index() != v || !ctx.sees(Kind::NetworkAcl, i) {
                    return Err(ApiError::new(
                        "IdempotentParameterMismatch",
                        format!("The client token '{token}' was used for another request"),
                    ));
                }
                return Outcome::read(answer(t, i));
            }
            name
        }
        None => ctx.new_name(Kind::NetworkAcl, &tags, |_| false),
    };
    let mut new = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        table.insert("vpc".into(), vpc_name.clone().into());
        array(doc, "network_acl").push(toml::Value::Table(table));
    })?;
    let id = ids::id(Kind::NetworkAcl, &format!("{vpc_name}/{name}"));
    set_tags(&mut new, &id, &tags);
    let new = commit(&new)?;
    let i = ids::resolve(&new, Kind::NetworkAcl, &id)
        .ok_or_else(|| ApiError::invalid_value("the new network ACL was not created"))?;
    Outcome::changed(answer(&new, i), new)
}

/// A NACL as `DescribeNetworkAcls` filters it.
struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let n = &t.network_acls[self.index];
        let one = |s: String| Some(vec![s]);
        let subnets = subnets_of(t, self.index);
        let each = |f: &dyn Fn(bool, &NaclRule) -> Option<String>| {
            Some(entries(n).iter().filter_map(|(e, r)| f(*e, r)).collect())
        };
        match name {
            "network-acl-id" => one(acl_id(t, self.index)),
            "vpc-id" => one(ids::id(Kind::Vpc, &t.vpc(n.vpc).name)),
            "default" => one(n.default.to_string()),
            "owner-id" => one(t.vpc(n.vpc).owner_id.clone()),
            "association.subnet-id" => Some(
                subnets
                    .iter()
                    .map(|&s| ids::id(Kind::Subnet, &t.subnets[s].name))
                    .collect(),
            ),
            "association.association-id" => {
                Some(subnets.iter().map(|&s| association_id(t, s)).collect())
            }
            "association.network-acl-id" => {
                Some(subnets.iter().map(|_| acl_id(t, self.index)).collect())
            }
            "entry.rule-number" => each(&|_, r| Some(r.number.to_string())),
            "entry.egress" => each(&|e, _| Some(e.to_string())),
            "entry.protocol" => each(&|_, r| Some(protocol_number(r.protocol))),
            "entry.rule-action" => each(&|_, r| Some(r.action.to_string())),
            "entry.cidr" => each(&|_, r| Some(r.cidr.to_string())),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// `DescribeNetworkAcls`: `NetworkAclId.N`, `Filter.N`, `MaxResults`, `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let indices = ctx.selected(Kind::NetworkAcl, "NetworkAclId", t.network_acls.len())?;
    let items: Vec<Item<'_>> = indices
        .into_iter()
        .map(|i| Item {
            index: i,
            tags: tags(t, i),
            ctx,
        })
        .collect();
    super::described(ctx, "networkAclSet", items, |x, item| {
        acl_xml(t, x, item.index)
    })
}

/// `DeleteNetworkAcl`: `NetworkAclId`.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let i = ctx.find(Kind::NetworkAcl, ctx.p.required("NetworkAclId")?)?;
    let t = ctx.t;
    let n = &t.network_acls[i];
    let id = acl_id(t, i);
    if n.default {
        return Err(ApiError::invalid_value(format!(
            "cannot delete default network ACL {id}"
        )));
    }
    let subnets = subnets_of(t, i);
    if !subnets.is_empty() {
        let names: Vec<String> = subnets
            .iter()
            .map(|&s| ids::id(Kind::Subnet, &t.subnets[s].name))
            .collect();
        return Err(ApiError::dependency(format!(
            "The networkAcl '{id}' has dependencies and cannot be deleted: it is associated with subnets {}",
            names.join(", ")
        )));
    }
    let (name, vpc) = (n.name.clone(), t.vpc(n.vpc).name.clone());
    let new = edit_document(t, |doc| {
        array(doc, "network_acl")
            .retain(|x| !(key(x, "name") == Some(&name) && key(x, "vpc") == Some(&vpc)));
        drop_document_tags(doc, std::slice::from_ref(&id));
    })?;
    Outcome::done(new)
}

/// The NACL, direction and rule number of an entry request.
fn entry_target(ctx: &Ctx<'_>) -> Result<(usize, bool, u16), ApiError> {
    let p = ctx.p;
    let i = ctx.find(Kind::NetworkAcl, p.required("NetworkAclId")?)?;
    let egress = p.bool("Egress")?.unwrap_or(false);
    let raw = p
        .int("RuleNumber")?
        .ok_or_else(|| ApiError::missing("The request must contain the parameter RuleNumber"))?;
    let number = u16::try_from(raw)
        .ok()
        .filter(|n| (1..=MAX_NACL_RULE).contains(n))
        .ok_or_else(|| {
            ApiError::invalid_value(format!(
                "Value ({raw}) for parameter ruleNumber is invalid. Rule numbers must be between 1 and {MAX_NACL_RULE}."
            ))
        })?;
    Ok((i, egress, number))
}

/// The entry a `CreateNetworkAclEntry` or `ReplaceNetworkAclEntry` describes.
fn entry(ctx: &Ctx<'_>, number: u16) -> Result<NaclRule, ApiError> {
    let p = ctx.p;
    if p.str("Ipv6CidrBlock").is_some() {
        return Err(ApiError::invalid_value("vpcd does not support IPv6 blocks"));
    }
    let proto = p.required("Protocol")?;
    let action = match p.required("RuleAction")?.to_ascii_lowercase().as_str() {
        "allow" => RuleAction::Allow,
        "deny" => RuleAction::Deny,
        other => {
            return Err(ApiError::invalid_value(format!(
                "Value ({other}) for parameter ruleAction is invalid. Expected allow or deny."
            )));
        }
    };
    let cidr = parse_block(p.required("CidrBlock")?, "cidrBlock")?;
    let icmp = |what: &str| -> Result<Option<i64>, ApiError> {
        Ok(match p.int(&format!("Icmp.{what}"))? {
            Some(v) => Some(v),
            None => p.int(&format!("IcmpTypeCode.{what}"))?,
        })
    };
    let protocol = Protocol::from_name(&proto.to_ascii_lowercase());
    let (from, to) = if protocol == Some(Protocol::ICMP) {
        (icmp("Type")?, icmp("Code")?)
    } else {
        (p.int("PortRange.From")?, p.int("PortRange.To")?)
    };
    let (protocol, l4) = parse_l4(proto, from, to)?;
    Ok(NaclRule {
        number,
        protocol,
        l4,
        cidr,
        action,
    })
}

/// Changes NACL `i`'s entries of one direction with `f` and commits.
fn change_entries(
    ctx: &Ctx<'_>,
    i: usize,
    egress: bool,
    f: impl FnOnce(&mut Vec<NaclRule>) -> Result<(), ApiError>,
) -> Result<Outcome, ApiError> {
    let mut new = ctx.t.clone();
    let n = &mut new.network_acls[i];
    n.declared = true;
    let rules = if egress {
        &mut n.egress
    } else {
        &mut n.ingress
    };
    f(rules)?;
    rules.sort_by_key(|r| r.number);
    Outcome::done(commit(&new)?)
}

/// `InvalidNetworkAclEntry.NotFound`.
fn entry_not_found(number: u16, egress: bool) -> ApiError {
    ApiError::new(
        "InvalidNetworkAclEntry.NotFound",
        format!(
            "The specified {} network ACL entry {number} does not exist",
            if egress { "egress" } else { "ingress" }
        ),
    )
}

/// `CreateNetworkAclEntry`: `NetworkAclId`, `RuleNumber`, `Egress`, `Protocol`,
/// `RuleAction`, `CidrBlock`, `PortRange.From`/`.To`, `Icmp.Type`/`.Code`.
pub fn create_entry(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (i, egress, number) = entry_target(ctx)?;
    let rule = entry(ctx, number)?;
    change_entries(ctx, i, egress, |rules| {
        if rules.iter().any(|r| r.number == number) {
            return Err(ApiError::new(
                "NetworkAclEntryAlreadyExists",
                format!("The network acl entry identified by {number} already exists."),
            ));
        }
        if rules.len() >= MAX_NACL_RULES {
            return Err(ApiError::new(
                "NetworkAclEntryLimitExceeded",
                format!(
                    "The maximum number of entries per direction ({MAX_NACL_RULES}) has been reached."
                ),
            ));
        }
        rules.push(rule);
        Ok(())
    })
}

/// `ReplaceNetworkAclEntry`: as `CreateNetworkAclEntry`, for an existing entry.
pub fn replace_entry(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (i, egress, number) = entry_target(ctx)?;
    let rule = entry(ctx, number)?;
    change_entries(ctx, i, egress, |rules| {
        let r = rules
            .iter_mut()
            .find(|r| r.number == number)
            .ok_or_else(|| entry_not_found(number, egress))?;
        *r = rule;
        Ok(())
    })
}

/// `DeleteNetworkAclEntry`: `NetworkAclId`, `RuleNumber`, `Egress`.
pub fn delete_entry(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (i, egress, number) = entry_target(ctx)?;
    change_entries(ctx, i, egress, |rules| {
        let k = rules
            .iter()
            .position(|r| r.number == number)
            .ok_or_else(|| entry_not_found(number, egress))?;
        rules.remove(k);
        Ok(())
    })
}

/// `ReplaceNetworkAclAssociation`: `AssociationId` (a subnet's current association),
/// `NetworkAclId` (a NACL of the subnet's VPC).
pub fn replace_association(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let assoc = p.required("AssociationId")?;
    let acl = ctx.find(Kind::NetworkAcl, p.required("NetworkAclId")?)?;
    let t = ctx.t;
    let s = (0..t.subnets.len())
        .filter(|&s| ctx.sees(Kind::Subnet, s))
        .find(|&s| association_id(t, s) == assoc)
        .ok_or_else(|| {
            if ids::is_well_formed(Kind::NetworkAclAssociation, assoc) {
                ApiError::new(
                    "InvalidAssociationID.NotFound",
                    format!("The association ID '{assoc}' does not exist"),
                )
            } else {
                ApiError::new(
                    "InvalidAssociationID.Malformed",
                    format!("Invalid id: \"{assoc}\" (expecting \"aclassoc-...\")"),
                )
            }
        })?;
    let vpc: VpcId = t.subnets[s].vpc;
    if t.network_acls[acl].vpc != vpc {
        return Err(ApiError::invalid_value(format!(
            "Network ACL {} and subnet {} belong to different VPCs",
            acl_id(t, acl),
            ids::id(Kind::Subnet, &t.subnets[s].name)
        )));
    }
    let mut new = t.clone();
    new.subnets[s].network_acl = NetworkAclId(acl as u32);
    let new = commit(&new)?;
    let name = &t.subnets[s].name;
    let k = new
        .subnets
        .iter()
        .position(|x| &x.name == name)
        .ok_or_else(|| ApiError::invalid_value("the subnet was lost"))?;
    let mut x = Xml::new();
    x.leaf("newAssociationId", association_id(&new, k));
    Outcome::changed(x.finish(), new)
}
