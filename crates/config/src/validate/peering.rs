//! VPC peering connections, with AWS's rules (VPC peering guide: "Create a VPC peering
//! connection", "VPC peering limitations"):
//!
//! - Names are valid and unique. `vpc` (the requester) and `peer_vpc` (the accepter)
//!   are declared VPCs, not the same one, of any owners and regions.
//! - No block of one VPC overlaps a block of the other, secondary blocks included
//!   ("You cannot create a VPC peering connection between VPCs that have matching or
//!   overlapping IPv4 CIDR blocks").
//! - Two VPCs have at most one peering connection between them that is not deleted,
//!   whichever requested it.
//! - `status` is `active`, `pending-acceptance` or `deleted` (a connection deleted at
//!   run time, as vpcd writes it back: it carries nothing, routes to it are
//!   `blackhole`). Omitted, it is `active` when both VPCs have one owner (the file's
//!   author requested and accepted it) and `pending-acceptance` across accounts (the
//!   accepter's owner has not accepted yet); AWS is silent on what a file means, this
//!   is vpcd's choice.
//! - A security group rule's `vpc` (AWS's `UserIdGroupPair.VpcId`) is the rule's own
//!   VPC or a VPC peered with it, in the same region: AWS lets a rule reference a
//!   peer VPC's group only within one region (an inter-region peer is referenced by
//!   its CIDR blocks). A deleted connection still admits the reference: AWS keeps such
//!   a rule as a "stale" one.
//! - A route's `vpc_peering_connection` target has the table's VPC on one side, with
//!   any status (a route to a connection that is not active is `blackhole`); it is
//!   checked with the routes ([`super::routes`]).

use std::collections::HashMap;

use toml::Spanned;

use super::{Checker, lookup, names, overlaps};
use crate::error::Problem;
use crate::fabric::*;
use crate::topology::*;

/// A VPC peering connection being checked.
pub(super) struct PendingPeering {
    /// Its requester and accepter (`None`: either is unknown or they are the same).
    pub vpcs: Option<(VpcId, VpcId)>,
    /// Its status (`None`: broken).
    pub status: Option<PeeringStatus>,
    /// Whether anything about it is broken.
    pub broken: bool,
}

impl Checker<'_, '_, '_> {
    /// Names, VPCs, overlaps, one connection per pair, statuses.
    pub(super) fn peering_connections(&mut self) {
        let raw = self.raw;
        self.pcx_names = names(
            self.r,
            "vpc_peering_connection",
            raw.vpc_peering_connection.iter().map(|p| &p.name),
        );
        // The VPCs of a pair, lower id first -> the connection that joined them first.
        let mut pairs: HashMap<(VpcId, VpcId), usize> = HashMap::new();
        for (i, p) in raw.vpc_peering_connection.iter().enumerate() {
            let path = format!("vpc_peering_connection[{i}]");
            let requester: Option<VpcId> = lookup(
                self.r,
                &self.vpc_names,
                &p.vpc,
                format!("{path}.vpc"),
                Problem::UnknownVpc,
            );
            let accepter: Option<VpcId> = lookup(
                self.r,
                &self.vpc_names,
                &p.peer_vpc,
                format!("{path}.peer_vpc"),
                Problem::UnknownVpc,
            );
            let written = match &p.status {
                None => None,
                Some(s) => match s.get_ref().as_str() {
                    "active" => Some(Some(PeeringStatus::Active)),
                    "pending-acceptance" => Some(Some(PeeringStatus::PendingAcceptance)),
                    "deleted" => Some(Some(PeeringStatus::Deleted)),
                    other => {
                        let problem = Problem::BadPeeringStatus(other.to_owned());
                        self.r.report(s.span(), format!("{path}.status"), problem);
                        Some(None)
                    }
                },
            };
            let mut broken = matches!(written, Some(None));
            // A deleted connection does not count: the VPCs may be peered again.
            let deleted = written == Some(Some(PeeringStatus::Deleted));
            let vpc_name = |v: VpcId| raw.vpc[v.index()].name.get_ref().clone();
            let mut vpcs = None;
            if let (Some(a), Some(b)) = (requester, accepter) {
                let problem = if a == b {
                    Some(Problem::PeeredWithItself(p.peer_vpc.get_ref().clone()))
                } else if let Some(&other) = pairs.get(&(a.min(b), a.max(b))).filter(|_| !deleted) {
                    Some(Problem::SecondPeering {
                        vpc: vpc_name(a),
                        peer_vpc: vpc_name(b),
                        other: raw.vpc_peering_connection[other].name.get_ref().clone(),
                    })
                } else {
                    if !deleted {
                        pairs.insert((a.min(b), a.max(b)), i);
                    }
                    vpcs = Some((a, b));
                    self.peering_overlap(a, b)
                };
                if let Some(problem) = problem {
                    self.r
                        .report(p.peer_vpc.span(), format!("{path}.peer_vpc"), problem);
                    broken = true;
                }
            } else {
                broken = true;
            }
            let status = match written {
                Some(status) => status,
                None => vpcs.and_then(|(a, b)| {
                    let owner = |v: VpcId| self.vpc_accounts[v.index()].map(|(o, _)| o);
                    let (a, b) = (owner(a)?, owner(b)?);
                    Some(PeeringStatus::new_between(a == b))
                }),
            };
            self.peerings.push(PendingPeering {
                vpcs,
                status,
                broken,
            });
        }
    }

    /// The VPC a security group rule of VPC `own` names with `vpc` (`reference`, at
    /// `field`): `own` itself, or a VPC peered with it by a connection (of any status:
    /// a deleted one leaves AWS's stale rules) in the same region. `None` (reported) otherwise; `None`
    /// unreported when `own` is broken.
    pub(super) fn referenced_vpc(
        &mut self,
        own: Option<VpcId>,
        reference: &Spanned<String>,
        field: String,
    ) -> Option<VpcId> {
        let vpc: VpcId = lookup(
            self.r,
            &self.vpc_names,
            reference,
            field.clone(),
            Problem::UnknownVpc,
        )?;
        let own = own?;
        if vpc == own {
            return Some(vpc);
        }
        let name = |v: VpcId| self.raw.vpc[v.index()].name.get_ref().clone();
        let peered = self
            .peerings
            .iter()
            .any(|p| p.vpcs == Some((own, vpc)) || p.vpcs == Some((vpc, own)));
        let regions = (
            self.vpc_accounts[vpc.index()],
            self.vpc_accounts[own.index()],
        );
        let problem = match regions {
            _ if !peered => Problem::SgVpcNotPeered {
                vpc: name(vpc),
                own_vpc: name(own),
            },
            (Some((_, region)), Some((_, own_region))) if region != own_region => {
                Problem::SgPeerVpcInOtherRegion {
                    vpc: name(vpc),
                    region: region.to_owned(),
                    own_vpc: name(own),
                    own_region: own_region.to_owned(),
                }
            }
            // A broken region: that is reported already.
            (None, _) | (_, None) => return None,
            _ => return Some(vpc),
        };
        self.r.report(reference.span(), field, problem);
        None
    }

    /// The first pair of overlapping blocks of VPCs `a` and `b`, as a problem.
    fn peering_overlap(&self, a: VpcId, b: VpcId) -> Option<Problem> {
        // A VPC whose blocks are broken: that is reported already.
        let blocks_a = self.vpc_cidrs[a.index()].as_ref()?;
        let blocks_b = self.vpc_cidrs[b.index()].as_ref()?;
        let (cidr, peer_cidr) = blocks_a
            .iter()
            .flat_map(|x| blocks_b.iter().map(move |y| (*x, *y)))
            .find(|(x, y)| overlaps(*x, *y))?;
        let name = |v: VpcId| self.raw.vpc[v.index()].name.get_ref().clone();
        Some(Problem::PeeringCidrOverlap {
            vpc: name(a),
            cidr,
            peer_vpc: name(b),
            peer_cidr,
        })
    }

    /// The checked peering connections, for `build` (nothing was reported).
    pub(super) fn build_peerings(&self) -> Option<Vec<VpcPeeringConnection>> {
        let raw = self.raw;
        let mut out = Vec::new();
        for (i, p) in self.peerings.iter().enumerate() {
            if p.broken {
                return None;
            }
            let (requester, accepter) = p.vpcs?;
            out.push(VpcPeeringConnection {
                name: raw.vpc_peering_connection[i].name.get_ref().clone(),
                requester,
                accepter,
                status: p.status?,
            });
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::topology::*;
    use crate::{ConfigError, PeeringStatus, Problem, parse};

    /// VPCs `a` (10.1.0.0/16), `b` (10.2.0.0/16, with secondary 10.20.0.0/16) and `c`
    /// (10.3.0.0/16, another account in eu-west-1), and `d` (10.9.0.0/16, with
    /// secondary 10.1.128.0/20 overlapping `a`); one subnet and one instance in `a`,
    /// an internet gateway attached to `a`.
    const BASE: &str = r#"[[vpc]]
name = "a"
cidr = "10.1.0.0/16"

[[vpc]]
name = "b"
cidr = "10.2.0.0/16"
secondary_cidrs = ["10.20.0.0/16"]

[[vpc]]
name = "c"
cidr = "10.3.0.0/16"
owner_id = "444455556666"
region = "eu-west-1"

[[vpc]]
name = "d"
cidr = "10.9.0.0/16"
secondary_cidrs = ["10.1.128.0/20"]

[[subnet]]
name = "a-1"
vpc = "a"
cidr = "10.1.1.0/24"
az = "x"

[[instance]]
name = "pa"
subnet = "a-1"

[[internet_gateway]]
name = "igw"
vpc = "a"
"#;

    /// Lines in `BASE`: a snippet appended to it starts on line `BASE_LINES + 1`.
    const BASE_LINES: usize = 33;

    snippet_helpers!();

    fn problems(extra: &str) -> Vec<Problem> {
        match parse(&format!("{BASE}{extra}"), "t.toml") {
            Err(ConfigError::Invalid(d)) => d.into_iter().map(|d| d.problem).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    /// A peering connection on one line.
    fn pcx(name: &str, vpc: &str, peer: &str, keys: &str) -> String {
        format!(
            "[[vpc_peering_connection]]\nname = \"{name}\"\nvpc = \"{vpc}\"\npeer_vpc = \"{peer}\"\n{keys}\n"
        )
    }

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
        ok("");
    }

    #[test]
    fn a_connection_is_active_within_an_account_and_pending_across_accounts() {
        let src = pcx("a-b", "a", "b", "")
            + &pcx("a-c", "a", "c", "")
            + &pcx("c-b", "c", "b", "status = \"active\"");
        let t = ok(&src);
        let statuses: Vec<(&str, VpcId, VpcId, &str)> = t
            .vpc_peering_connections
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.requester,
                    p.accepter,
                    p.status.aws_name(),
                )
            })
            .collect();
        assert_eq!(
            statuses,
            [
                ("a-b", VpcId(0), VpcId(1), "active"),
                ("a-c", VpcId(0), VpcId(2), "pending-acceptance"),
                ("c-b", VpcId(2), VpcId(1), "active"),
            ]
        );
        let ab = t.vpc_peering_connection(VpcPeeringConnectionId(0));
        assert_eq!(ab.other_side(VpcId(0)), Some(VpcId(1)));
        assert_eq!(ab.other_side(VpcId(1)), Some(VpcId(0)));
        assert_eq!(ab.other_side(VpcId(2)), None);
        assert!(!ab.inter_region(&t));
        assert!(t.vpc_peering_connections[1].inter_region(&t));
        assert_eq!(
            t.vpc_peering_between(VpcId(1), VpcId(2)),
            Some(VpcPeeringConnectionId(2))
        );
        assert_eq!(t.vpc_peering_between(VpcId(0), VpcId(3)), None);
        // Written pending within one account.
        let t = ok(&pcx("a-b", "a", "b", "status = \"pending-acceptance\""));
        assert_eq!(
            t.vpc_peering_connections[0].status,
            PeeringStatus::PendingAcceptance
        );
    }

    #[test]
    fn peered_vpcs_exist_differ_and_do_not_overlap() {
        assert_eq!(
            errors(&(pcx("x", "a", "nope", "") + &pcx("y", "b", "b", ""))),
            [
                format!(
                    "{}vpc_peering_connection[0].peer_vpc \"nope\" is not a declared vpc",
                    at(4, 12)
                ),
                format!(
                    "{}vpc_peering_connection[1].peer_vpc \"b\" is the requester vpc too: a VPC cannot be peered with itself",
                    at(9, 12)
                ),
            ]
        );
        // A secondary block counts, on either side.
        assert_eq!(
            errors(&pcx("a-d", "a", "d", "")),
            [format!(
                "{}vpc_peering_connection[0].peer_vpc 10.1.128.0/20 of vpc \"d\" overlaps 10.1.0.0/16 of vpc \"a\": VPCs with matching or overlapping IPv4 CIDR blocks cannot be peered",
                at(4, 12)
            )]
        );
        assert!(matches!(
            &problems(&pcx("d-a", "d", "a", ""))[..],
            [Problem::PeeringCidrOverlap { cidr, .. }] if cidr.to_string() == "10.1.128.0/20"
        ));
    }

    #[test]
    fn two_vpcs_have_one_connection() {
        assert_eq!(
            errors(&(pcx("a-b", "a", "b", "") + &pcx("b-a", "b", "a", ""))),
            [format!(
                "{}vpc_peering_connection[1].peer_vpc vpc \"b\" and vpc \"a\" are already peered by vpc_peering_connection \"a-b\"; AWS allows one peering connection between two VPCs",
                at(9, 12)
            )]
        );
        assert_eq!(
            errors(&(pcx("a-b", "a", "b", "") + &pcx("a-b", "a", "c", ""))),
            [format!(
                "{}vpc_peering_connection[1].name \"a-b\" is already the name of vpc_peering_connection 0",
                at(7, 8)
            )]
        );
    }

    #[test]
    fn a_status_is_active_pending_acceptance_or_deleted() {
        assert_eq!(
            errors(&pcx("a-b", "a", "b", "status = \"rejected\"")),
            [format!(
                "{}vpc_peering_connection[0].status \"rejected\" is not a peering connection status (write \"active\", \"pending-acceptance\" or \"deleted\")",
                at(5, 10)
            )]
        );
        assert_eq!(
            errors(&pcx("a-b", "a", "b", "peer_owner_id = \"444455556666\"")),
            [format!(
                "{}vpc_peering_connection[0].peer_owner_id unknown field `peer_owner_id`, expected one of `name`, `vpc`, `peer_vpc`, `status`",
                at(5, 1)
            )]
        );
    }

    #[test]
    fn a_deleted_connection_is_kept_and_does_not_count() {
        // What DeleteVpcPeeringConnection leaves: the connection, deleted, and a new
        // one between the same VPCs, either way round.
        let src = pcx("old", "a", "b", "status = \"deleted\"")
            + &pcx("new", "b", "a", "")
            + &pcx("older", "a", "b", "status = \"deleted\"");
        let t = ok(&src);
        let statuses: Vec<PeeringStatus> =
            t.vpc_peering_connections.iter().map(|p| p.status).collect();
        assert_eq!(
            statuses,
            [
                PeeringStatus::Deleted,
                PeeringStatus::Active,
                PeeringStatus::Deleted
            ]
        );
        assert_eq!(
            t.vpc_peering_between(VpcId(0), VpcId(1)),
            Some(VpcPeeringConnectionId(1))
        );
        // Two that are not deleted are still refused; a deleted one still may not join
        // overlapping VPCs.
        assert!(matches!(
            &problems(&(src + &pcx("again", "a", "b", "")))[..],
            [Problem::SecondPeering { other, .. }] if other == "new"
        ));
        assert!(matches!(
            &problems(&pcx("d-a", "d", "a", "status = \"deleted\""))[..],
            [Problem::PeeringCidrOverlap { .. }]
        ));
        // Routes to it stay, blackhole.
        let table = |state: &str| {
            format!(
                "[[route_table]]\nname = \"rt\"\nvpc = \"a\"\nroute = [{{ destination = \"10.2.0.0/16\", vpc_peering_connection = \"old\", state = \"{state}\" }}, {{ destination = \"10.20.0.0/16\", vpc_peering_connection = \"new\", state = \"active\" }}]\n"
            )
        };
        ok(&(pcx("old", "a", "b", "status = \"deleted\"")
            + &pcx("new", "b", "a", "")
            + &table("blackhole")));
        assert_eq!(
            problems(
                &(pcx("old", "a", "b", "status = \"deleted\"")
                    + &pcx("new", "b", "a", "")
                    + &table("active"))
            ),
            [Problem::RouteStateMismatch {
                written: "active",
                why: "VPC peering connection \"old\" is deleted".into()
            }]
        );
    }
    /// The peering connections `a-b` and `b-c`, then route table `rt` of `table_vpc`
    /// with `keys` (whole lines) and `routes`; the `route` key is on line 14 of the
    /// snippet plus the lines of `keys`.
    fn routes(table_vpc: &str, keys: &str, routes: &str) -> String {
        pcx("a-b", "a", "b", "")
            + &pcx("b-c", "b", "c", "")
            + &format!(
                "[[route_table]]\nname = \"rt\"\nvpc = \"{table_vpc}\"\n{keys}route = [{routes}]\n"
            )
    }

    #[test]
    fn a_route_goes_to_a_connection_of_the_tables_vpc() {
        let t = ok(&routes(
            "b",
            "",
            "{ destination = \"10.1.0.0/16\", vpc_peering_connection = \"a-b\" }, { destination = \"10.3.0.0/16\", vpc_peering_connection = \"b-c\" }, { destination = \"0.0.0.0/0\", vpc_peering_connection = \"a-b\" }",
        ));
        let rt = &t.route_tables[0];
        let shown: Vec<(String, String)> = rt
            .routes
            .iter()
            .map(|r| (r.destination.to_string(), t.route_target_name(r.target)))
            .collect();
        let pair = |d: &str, t: &str| (d.to_string(), t.to_string());
        assert_eq!(
            shown,
            [
                pair("10.2.0.0/16", "local"),
                pair("10.20.0.0/16", "local"),
                pair("10.1.0.0/16", "a-b"),
                pair("10.3.0.0/16", "b-c"),
                pair("0.0.0.0/0", "a-b"),
            ]
        );
        assert_eq!(
            rt.routes[2].target,
            RouteTarget::VpcPeeringConnection(VpcPeeringConnectionId(0))
        );
        assert!(!rt.routes[2].target.allowed_in_gateway_route_table());
        // A pending connection (b-c is across accounts) takes routes too.
        assert_eq!(
            t.vpc_peering_connections[1].status,
            PeeringStatus::PendingAcceptance
        );
        assert_eq!(
            errors(&routes(
                "a",
                "",
                "{ destination = \"10.3.0.0/16\", vpc_peering_connection = \"b-c\" }, { destination = \"10.2.0.0/16\", vpc_peering_connection = \"nope\" }"
            )),
            [
                format!(
                    "{}route_table[0].route[0].vpc_peering_connection vpc peering connection \"b-c\" joins vpc \"b\" and vpc \"c\", not vpc \"a\" of the route table",
                    at(14, 66)
                ),
                format!(
                    "{}route_table[0].route[1].vpc_peering_connection \"nope\" is not a declared vpc_peering_connection",
                    at(14, 131)
                ),
            ]
        );
    }

    #[test]
    fn a_connection_replaces_no_local_route_and_is_no_middlebox() {
        assert_eq!(
            problems(&routes(
                "a",
                "",
                "{ destination = \"10.1.0.0/16\", vpc_peering_connection = \"a-b\" }, { destination = \"10.1.1.0/24\", vpc_peering_connection = \"a-b\" }"
            )),
            [
                Problem::ConflictsWithLocal {
                    destination: "10.1.0.0/16".parse().unwrap()
                },
                Problem::MoreSpecificThanLocal {
                    destination: "10.1.1.0/24".parse().unwrap(),
                    local: "10.1.0.0/16".parse().unwrap()
                },
            ]
        );
        assert_eq!(
            errors(&routes(
                "a",
                "gateways = [\"igw\"]\n",
                "{ destination = \"10.1.1.0/24\", vpc_peering_connection = \"a-b\" }"
            )),
            [format!(
                "{}route_table[0].route[0].vpc_peering_connection is not allowed in a gateway route table (the table is associated with internet gateway \"igw\"): its routes may only target a network interface (instance or network_interface)",
                at(15, 66)
            )]
        );
        assert_eq!(
            problems(&routes(
                "a",
                "",
                "{ destination = \"10.2.0.0/16\", vpc_peering_connection = \"a-b\", instance = \"pa\" }"
            )),
            [Problem::RouteTargetCount { found: 2 }]
        );
    }

    /// Groups `pa-sg` (in `a`, with `rules` as its ingress), `pb-sg` (in `b`) and
    /// `pc-sg` (in `c`), after the connections `a-b` and `a-c`; the `ingress` key is on
    /// line 14 of the snippet.
    fn groups(rules: &str) -> String {
        pcx("a-b", "a", "b", "")
            + &pcx("a-c", "a", "c", "status = \"active\"")
            + &format!(
                "[[security_group]]\nname = \"pa-sg\"\nvpc = \"a\"\ningress = [{rules}]\n\n[[security_group]]\nname = \"pb-sg\"\nvpc = \"b\"\n\n[[security_group]]\nname = \"pc-sg\"\nvpc = \"c\"\n"
            )
    }

    #[test]
    fn a_rule_references_a_group_of_a_peer_vpc_in_the_same_region() {
        let t = ok(&groups(
            "{ protocol = \"tcp\", port = 22, security_group = \"pb-sg\", vpc = \"b\" }, { protocol = \"icmp\", security_group = \"pa-sg\", vpc = \"a\" }",
        ));
        let sg = |name: &str| {
            let i = t.security_groups.iter().position(|g| g.name == name);
            SecurityGroupId(i.unwrap() as u32)
        };
        let pa = t.security_group(sg("pa-sg"));
        let peers: Vec<crate::SgPeer> = pa.ingress.iter().map(|r| r.peer).collect();
        assert_eq!(
            peers,
            [
                crate::SgPeer::Group(sg("pb-sg")),
                crate::SgPeer::Group(sg("pa-sg"))
            ]
        );
        assert_eq!(t.security_group(sg("pb-sg")).vpc, VpcId(1));
    }

    #[test]
    fn a_deleted_connection_leaves_stale_rules() {
        // AWS keeps a rule referencing a group of a VPC no longer peered ("stale").
        let src =
            groups("{ protocol = \"tcp\", port = 22, security_group = \"pb-sg\", vpc = \"b\" }")
                .replacen(
                    "peer_vpc = \"b\"\n",
                    "peer_vpc = \"b\"\nstatus = \"deleted\"\n",
                    1,
                );
        let t = ok(&src);
        assert_eq!(t.vpc_peering_connections[0].status, PeeringStatus::Deleted);
        assert_eq!(t.security_groups[0].ingress.len(), 1);
    }

    #[test]
    fn a_rule_references_no_group_of_an_unpeered_or_far_vpc() {
        let rule = |keys: &str| groups(&format!("{{ protocol = \"tcp\", port = 22, {keys} }}"));
        assert_eq!(
            errors(&rule("security_group = \"pc-sg\", vpc = \"c\"")),
            [format!(
                "{}security_group[0].ingress[0].vpc vpc \"c\" is in region \"eu-west-1\", vpc \"a\" (the security group's VPC) in \"us-east-1\": a rule may reference a group of a peer VPC only in the same region",
                at(14, 75)
            )]
        );
        assert_eq!(
            errors(&rule("security_group = \"default\", vpc = \"d\"")),
            [format!(
                "{}security_group[0].ingress[0].vpc vpc \"d\" is not peered with vpc \"a\" (the security group's VPC): a rule may reference a group of its own VPC or of a VPC peered with it",
                at(14, 77)
            )]
        );
        assert_eq!(
            errors(&rule("security_group = \"pa-sg\", vpc = \"b\"")),
            [format!(
                "{}security_group[0].ingress[0].security_group \"pa-sg\" is a security group of vpc \"a\", not of vpc \"b\"",
                at(14, 60)
            )]
        );
        assert_eq!(
            errors(&rule("security_group = \"pb-sg\"")),
            [format!(
                "{}security_group[0].ingress[0].security_group \"pb-sg\" is a security group of vpc \"b\", not of vpc \"a\"",
                at(14, 60)
            )]
        );
        assert_eq!(
            errors(&rule("cidr = \"10.2.0.0/16\", vpc = \"b\"")),
            [format!(
                "{}security_group[0].ingress[0].vpc is only for a security_group peer: it names the VPC of the referenced group",
                at(14, 71)
            )]
        );
        assert_eq!(
            problems(&rule("security_group = \"pb-sg\", vpc = \"nope\"")),
            [Problem::UnknownVpc("nope".into())]
        );
    }
}
