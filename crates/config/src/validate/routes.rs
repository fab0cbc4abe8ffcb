//! The routes of route tables, local-route replacement and gateway route tables, with
//! AWS's rules:
//!
//! - A route has a canonical destination and exactly one target: an instance's only
//!   interface (`instance`), a network interface (`network_interface`, `instance/ethN`),
//!   an internet gateway attached to the table's VPC, a NAT gateway in the table's
//!   VPC, or a VPC peering connection with the table's VPC on one side (whatever its
//!   status: a route to a connection that is not active is `blackhole`); an interface
//!   target is in the table's VPC. Destinations are unique per table. A peering
//!   connection may take any destination outside the VPC's blocks, `0.0.0.0/0`
//!   included (AWS allows it; the peer drops what is not for its own blocks). A
//!   transit gateway target is a gateway the table's VPC has an attachment to (any
//!   status), with the same freedom of destination.
//! - A virtual private gateway target (`vpn_gateway`) is attached to the table's VPC,
//!   like an internet gateway; written `blackhole`, it may be detached (what
//!   `DetachVpnGateway` leaves behind).
//! - A route's `state` (AWS's route `State`) is `active` or `blackhole`; omitted, it is
//!   what the target makes it (`blackhole`: an internet gateway not attached to the
//!   table's VPC, a deleted NAT gateway, a peering connection that is not active, a
//!   transit gateway whose attachment to the VPC is not available). Written, it must
//!   be that state. `blackhole` is the only way to write a route to an internet
//!   gateway that is not attached to the table's VPC, the route a
//!   `DetachInternetGateway` at run time leaves behind (AWS refuses to create one).
//! - No destination is 169.254.168.0/22 or inside it, in any route table: AWS reserves
//!   the block for the VPC's own services ([`addressing::VPC_SERVICES`]: the Route 53
//!   Resolver 169.254.169.253, instance metadata 169.254.169.254, Amazon Time Sync
//!   169.254.169.123). A destination that merely contains it (0.0.0.0/0,
//!   169.254.0.0/16) is allowed.
//! - Every table has one local route per VPC block (added by `build`). AWS lets the
//!   target of each local route be replaced by a network interface, and restored to
//!   `local` later: a route whose destination is exactly a VPC block, with an
//!   `instance` or `network_interface` target, replaces that local route's target. It
//!   is the local route in the topology (origin [`RouteOrigin::Local`]), not a second
//!   route. Any other target for a VPC block is an error.
//! - A route more specific than a local route is allowed only for exactly a subnet's
//!   CIDR of the VPC, with a network interface or NAT gateway target (AWS's middlebox
//!   routing).
//! - Gateway route tables (AWS's edge associations, "ingress routing"): `gateways`
//!   names internet gateways, each attached to the table's VPC and associated with one
//!   table at most. Such a table routes the traffic entering the VPC through the
//!   gateway, after the gateway translated the public destination to the private one,
//!   so AWS allows it only `local` and network interface targets, and only
//!   destinations inside the VPC's blocks: a whole VPC block (which replaces the local
//!   route's target) or a whole subnet's CIDR (more specific than local). AWS refuses
//!   the association while the table has another route, so every configured route of
//!   a table with `gateways` must be one of those. A gateway route table may also be
//!   its VPC's main table or have subnet associations (AWS does not forbid it).

use std::collections::HashMap;

use ipnet::Ipv4Net;
use toml::Spanned;

use super::transit::PendingKind;
use super::{Checker, lookup, parse_cidr};
use crate::addressing;
use crate::error::Problem;
use crate::fabric::*;
use crate::raw::RawRoute;
use crate::topology::*;

impl<'a> Checker<'_, 'a, '_> {
    /// Edge associations: every `gateways` entry is a declared internet gateway,
    /// attached to the table's VPC and associated with no other table.
    pub(super) fn gateway_associations(&mut self) {
        let raw = self.raw;
        for (i, t) in raw.route_table.iter().enumerate() {
            let mut ids = Vec::new();
            for (j, g) in t.gateways.iter().enumerate() {
                let field = format!("route_table[{i}].gateways[{j}]");
                let id: Option<InternetGatewayId> = lookup(
                    self.r,
                    &self.gw.igw_names,
                    g,
                    field.clone(),
                    Problem::UnknownInternetGateway,
                );
                // A broken `vpc` of the table or of the gateway is reported already.
                let (Some(id), Some(table_vpc)) = (id, self.table_vpcs[i]) else {
                    continue;
                };
                let Some(attached) = self.gw.igw_vpcs[id.index()] else {
                    continue;
                };
                let vpc_name = |v: VpcId| raw.vpc[v.index()].name.get_ref().clone();
                let problem = if attached != Some(table_vpc) {
                    Problem::InternetGatewayNotAttached {
                        igw: g.get_ref().clone(),
                        vpc: vpc_name(table_vpc),
                        attached: attached.map(vpc_name),
                    }
                } else if let Some(&other) = self.gateway_tables.get(&id) {
                    Problem::SecondGatewayRouteTable {
                        igw: g.get_ref().clone(),
                        other: raw.route_table[other].name.get_ref().clone(),
                    }
                } else {
                    self.gateway_tables.insert(id, i);
                    ids.push(id);
                    continue;
                };
                self.r.report(g.span(), field, problem);
            }
            self.table_gateways.push(ids);
        }
    }

    /// Every configured route of every declared table; destinations unique per table.
    pub(super) fn routes(&mut self) {
        for (i, t) in self.raw.route_table.iter().enumerate() {
            let mut routes: Vec<Route> = Vec::new();
            let mut seen: HashMap<Ipv4Net, usize> = HashMap::new();
            for (j, route) in t.route.iter().enumerate() {
                let Some(checked) = self.route(i, j, route) else {
                    continue;
                };
                if let Some(&index) = seen.get(&checked.destination) {
                    let problem = Problem::DuplicateRoute {
                        destination: checked.destination,
                        index,
                    };
                    let field = format!("route_table[{i}].route[{j}].destination");
                    self.r
                        .report(route.get_ref().destination.span(), field, problem);
                    continue;
                }
                seen.insert(checked.destination, j);
                routes.push(checked);
            }
            self.routes.push(routes);
        }
    }

    /// Route `j` of declared table `i`: a static route, or the replacement of a local
    /// route's target (origin `Local`).
    fn route(&mut self, i: usize, j: usize, route: &'a Spanned<RawRoute>) -> Option<Route> {
        let path = format!("route_table[{i}].route[{j}]");
        let raw = route.get_ref();
        let dest_field = format!("{path}.destination");
        let dest_span = raw.destination.span();
        let mut destination = parse_cidr(self.r, &raw.destination, dest_field.clone());
        if let Some(d) = destination.filter(|d| addressing::VPC_SERVICES.contains(d)) {
            let problem = Problem::RouteToVpcServices { destination: d };
            self.r
                .report(dest_span.clone(), dest_field.clone(), problem);
            destination = None;
        }
        let found = [
            &raw.instance,
            &raw.network_interface,
            &raw.internet_gateway,
            &raw.nat_gateway,
            &raw.vpc_peering_connection,
            &raw.transit_gateway,
            &raw.vpn_gateway,
        ]
        .iter()
        .filter(|t| t.is_some())
        .count();
        let written_state = match &raw.state {
            None => None,
            Some(w) => match w.get_ref().as_str() {
                "active" => Some(true),
                "blackhole" => Some(false),
                other => {
                    let problem = Problem::BadRouteState(other.to_owned());
                    self.r.report(w.span(), format!("{path}.state"), problem);
                    return None;
                }
            },
        };
        if found != 1 {
            self.r
                .report(route.span(), path, Problem::RouteTargetCount { found });
            return None;
        }
        // The target, and the VPC it is in (`None`: an internet gateway, a peering
        // connection or a transit gateway, whose VPCs are checked below).
        let (target, target_vpc, reference, field) = if let Some(inst) = &raw.instance {
            let field = format!("{path}.instance");
            let eni = self.instance_target(inst, &field)?;
            let vpc = self.pending_eni_vpc(eni);
            (RouteTarget::Eni(EniId(eni as u32)), vpc, inst, field)
        } else if let Some(nic) = &raw.network_interface {
            let field = format!("{path}.network_interface");
            let eni = self.interface_target(nic, &field)?;
            let vpc = self.pending_eni_vpc(eni);
            (RouteTarget::Eni(EniId(eni as u32)), vpc, nic, field)
        } else if let Some(igw) = &raw.internet_gateway {
            let field = format!("{path}.internet_gateway");
            let id: InternetGatewayId = lookup(
                self.r,
                &self.gw.igw_names,
                igw,
                field.clone(),
                Problem::UnknownInternetGateway,
            )?;
            (RouteTarget::InternetGateway(id), None, igw, field)
        } else if let Some(nat) = &raw.nat_gateway {
            let field = format!("{path}.nat_gateway");
            let id: NatGatewayId = lookup(
                self.r,
                &self.gw.nat_names,
                nat,
                field.clone(),
                Problem::UnknownNatGateway,
            )?;
            let subnet = self.gw.nats[id.index()].subnet?;
            let vpc = self.subnets[subnet.index()].map(|(v, _)| v);
            (RouteTarget::NatGateway(id), vpc, nat, field)
        } else if let Some(pcx) = &raw.vpc_peering_connection {
            let field = format!("{path}.vpc_peering_connection");
            let id: VpcPeeringConnectionId = lookup(
                self.r,
                &self.pcx_names,
                pcx,
                field.clone(),
                Problem::UnknownVpcPeeringConnection,
            )?;
            (RouteTarget::VpcPeeringConnection(id), None, pcx, field)
        } else if let Some(vgw) = &raw.vpn_gateway {
            let field = format!("{path}.vpn_gateway");
            let id: crate::VpnGatewayId = lookup(
                self.r,
                &self.vpn.vgw_names,
                vgw,
                field.clone(),
                Problem::UnknownVpnGateway,
            )?;
            (RouteTarget::VpnGateway(id), None, vgw, field)
        } else {
            let tgw = raw.transit_gateway.as_ref()?;
            let field = format!("{path}.transit_gateway");
            let id: TransitGatewayId = lookup(
                self.r,
                &self.tr.tgw_names,
                tgw,
                field.clone(),
                Problem::UnknownTransitGateway,
            )?;
            (RouteTarget::TransitGateway(id), None, tgw, field)
        };
        // A gateway route table (one with `gateways`, valid or not: the intent is
        // written) takes network interface targets only, inside the VPC's blocks.
        let edge = self.raw.route_table[i].gateways.first();
        let edge = edge.map(|g| g.get_ref().clone());
        let edge_target_ok = edge.is_none() || target.allowed_in_gateway_route_table();
        if let Some(igw) = edge.clone().filter(|_| !edge_target_ok) {
            let problem = Problem::GatewayRouteTableTarget { igw };
            self.r.report(reference.span(), field.clone(), problem);
        }
        let destination = destination?;
        let table_vpc = self.table_vpcs[i]?;
        let blocks = self.vpc_cidrs[table_vpc.index()].as_ref()?;
        let vpc_name = |v: VpcId| self.raw.vpc[v.index()].name.get_ref().clone();
        if let Some(igw) = edge
            && !blocks.iter().any(|b| b.contains(&destination))
        {
            let vpc_cidrs = addressing::cidr_list(blocks);
            let problem = Problem::GatewayRouteTableDestination {
                destination,
                vpc: vpc_name(table_vpc),
                vpc_cidrs,
                igw,
            };
            self.r.report(dest_span, dest_field, problem);
            return None;
        }
        if !edge_target_ok {
            return None;
        }
        let problem = match target {
            RouteTarget::InternetGateway(id) => {
                // A broken `vpc` of the internet gateway is reported already.
                let attached = self.gw.igw_vpcs[id.index()]?;
                // Written `blackhole`: the route a detachment left behind.
                let left = written_state == Some(false);
                (attached != Some(table_vpc) && !left).then(|| {
                    Problem::InternetGatewayNotAttached {
                        igw: reference.get_ref().clone(),
                        vpc: vpc_name(table_vpc),
                        attached: attached.map(vpc_name),
                    }
                })
            }
            RouteTarget::VpnGateway(id) => {
                // A broken `vpc` of the VPN gateway is reported already.
                let attached = self.vpn.vgw_vpcs[id.index()]?;
                // Written `blackhole`: the route a detachment left behind.
                let left = written_state == Some(false);
                (attached != Some(table_vpc) && !left).then(|| Problem::VpnGatewayNotAttached {
                    vgw: reference.get_ref().clone(),
                    vpc: vpc_name(table_vpc),
                    attached: attached.map(vpc_name),
                })
            }
            RouteTarget::VpcPeeringConnection(id) => {
                // A connection with an unknown VPC, or peered with itself: reported.
                let (a, b) = self.peerings[id.index()].vpcs?;
                (a != table_vpc && b != table_vpc).then(|| Problem::PeeringNotOfVpc {
                    pcx: reference.get_ref().clone(),
                    vpc: vpc_name(a),
                    peer_vpc: vpc_name(b),
                    table_vpc: vpc_name(table_vpc),
                })
            }
            RouteTarget::TransitGateway(id) => {
                // An attachment to it with an unknown VPC: that is reported already.
                let attached = self.attached_to(id, table_vpc)?;
                (!attached).then(|| Problem::NoTgwAttachment {
                    tgw: reference.get_ref().clone(),
                    vpc: vpc_name(table_vpc),
                })
            }
            _ => {
                let target_vpc = target_vpc?;
                (target_vpc != table_vpc).then(|| Problem::TargetInOtherVpc {
                    target: reference.get_ref().clone(),
                    target_vpc: vpc_name(target_vpc),
                    table_vpc: vpc_name(table_vpc),
                })
            }
        };
        if let Some(problem) = problem {
            self.r.report(reference.span(), field, problem);
            return None;
        }
        if let (Some(w), Some(state)) = (&raw.state, written_state) {
            let (active, why) = self.route_state(target, reference.get_ref(), table_vpc)?;
            if active != state {
                let written = if state { "active" } else { "blackhole" };
                let problem = Problem::RouteStateMismatch { written, why };
                self.r.report(w.span(), format!("{path}.state"), problem);
                return None;
            }
        }
        if blocks.contains(&destination) {
            // AWS: the target of a local route may be replaced by a network interface
            // (and restored to `local`), one local route per VPC block.
            if matches!(target, RouteTarget::Eni(_)) {
                return Some(Route {
                    destination,
                    target,
                    origin: RouteOrigin::Local,
                });
            }
            self.r.report(
                dest_span,
                dest_field,
                Problem::ConflictsWithLocal { destination },
            );
            return None;
        }
        if let Some(&local) = blocks.iter().find(|b| b.contains(&destination)) {
            // AWS's middlebox routing: a whole subnet's CIDR, to an interface or a NAT
            // gateway (or a Gateway Load Balancer endpoint, which vpcd does not have).
            let middlebox = matches!(target, RouteTarget::Eni(_) | RouteTarget::NatGateway(_));
            let whole_subnet = self
                .subnets
                .iter()
                .flatten()
                .any(|(v, c)| *v == table_vpc && *c == destination);
            if !(middlebox && whole_subnet) {
                let problem = Problem::MoreSpecificThanLocal { destination, local };
                self.r.report(dest_span, dest_field, problem);
                return None;
            }
        }
        Some(Route {
            destination,
            target,
            origin: RouteOrigin::Static,
        })
    }

    /// Whether a route to `target` (written `reference`) in a table of VPC `table_vpc`
    /// is active (else `blackhole`), and why: `None` when what that depends on is
    /// broken (reported already).
    fn route_state(
        &self,
        target: RouteTarget,
        reference: &str,
        table_vpc: VpcId,
    ) -> Option<(bool, String)> {
        let vpc_name = |v: VpcId| self.raw.vpc[v.index()].name.get_ref().clone();
        Some(match target {
            RouteTarget::Local | RouteTarget::Eni(_) => {
                (true, "a route to a network interface is active".to_owned())
            }
            // Never written as a route.
            RouteTarget::VpcEndpoint(_) => (true, "an endpoint's route is active".to_owned()),
            RouteTarget::InternetGateway(id) => {
                let attached = self.gw.igw_vpcs[id.index()]?;
                let how = match attached {
                    None => "is detached".to_owned(),
                    Some(v) if v == table_vpc => format!("is attached to vpc {:?}", vpc_name(v)),
                    Some(v) => format!(
                        "is attached to vpc {:?}, not to vpc {:?} of the route table",
                        vpc_name(v),
                        vpc_name(table_vpc)
                    ),
                };
                let active = attached == Some(table_vpc);
                (active, format!("internet gateway {reference:?} {how}"))
            }
            RouteTarget::VpnGateway(id) => {
                let attached = self.vpn.vgw_vpcs[id.index()]?;
                let how = match attached {
                    None => "is detached".to_owned(),
                    Some(v) if v == table_vpc => format!("is attached to vpc {:?}", vpc_name(v)),
                    Some(v) => format!(
                        "is attached to vpc {:?}, not to vpc {:?} of the route table",
                        vpc_name(v),
                        vpc_name(table_vpc)
                    ),
                };
                let active = attached == Some(table_vpc);
                (active, format!("VPN gateway {reference:?} {how}"))
            }
            RouteTarget::NatGateway(id) => {
                let deleted = self.gw.nats[id.index()].deleted?;
                let state = if deleted { "deleted" } else { "available" };
                (!deleted, format!("NAT gateway {reference:?} is {state}"))
            }
            RouteTarget::VpcPeeringConnection(id) => {
                let status = self.peerings[id.index()].status?;
                let why = format!(
                    "VPC peering connection {reference:?} is {}",
                    status.aws_name()
                );
                (status == PeeringStatus::Active, why)
            }
            RouteTarget::TransitGateway(id) => {
                let mut current = None;
                for (a, att) in self.tr.atts.iter().enumerate() {
                    let PendingKind::Vpc { vpc: Some(v), .. } = &att.kind else {
                        continue;
                    };
                    if att.tgw == Some(id) && *v == table_vpc {
                        let status = att.status?;
                        if status != AttachmentStatus::Deleted {
                            current = Some((a, status));
                        }
                    }
                }
                let vpc = vpc_name(table_vpc);
                match current {
                    Some((a, status)) => {
                        let name = self.raw.transit_gateway_vpc_attachment[a].name.get_ref();
                        let why = format!(
                            "attachment {name:?} of vpc {vpc:?} to transit gateway {reference:?} is {}",
                            status.aws_name()
                        );
                        (status == AttachmentStatus::Available, why)
                    }
                    None => (
                        false,
                        format!(
                            "vpc {vpc:?}'s attachment to transit gateway {reference:?} is deleted"
                        ),
                    ),
                }
            }
        })
    }

    /// The VPC of a pending interface (`None`: its subnet is broken).
    fn pending_eni_vpc(&self, k: usize) -> Option<VpcId> {
        let subnet = self.enis[k].subnet?;
        self.subnets[subnet.index()].map(|(v, _)| v)
    }

    /// An `instance` target: the instance's only interface.
    fn instance_target(&mut self, reference: &Spanned<String>, field: &str) -> Option<usize> {
        let inst = self.instance_ref(reference, field)?;
        let count = self
            .enis
            .iter()
            .filter(|e| e.instance == inst.index())
            .count();
        if count != 1 {
            if count > 1 {
                let problem = Problem::AmbiguousInstanceTarget {
                    instance: reference.get_ref().clone(),
                    count,
                };
                self.r.report(reference.span(), field, problem);
            }
            return None;
        }
        self.enis.iter().position(|e| e.instance == inst.index())
    }
}

#[cfg(test)]
mod tests {
    use crate::topology::*;
    use crate::{ConfigError, Problem, parse};

    /// VPC `main` (10.0.0.0/16 and 10.5.0.0/16) with subnets `a` (10.0.1.0/24) and `b`
    /// (10.0.2.0/24), VPC `other` with subnet `o`; appliance `fw` (10.0.2.10, eth0 and
    /// eth1 in `b`) and instance `web` (10.0.1.10) in `main`, instance `far` in `other`;
    /// internet gateways `igw` (attached to `main`), `far-igw` (to `other`) and `spare`
    /// (detached); a private NAT gateway `nat` in `b`.
    const BASE: &str = r#"[[vpc]]
name = "main"
cidr = "10.0.0.0/16"
secondary_cidrs = ["10.5.0.0/16"]

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

[[instance]]
name = "fw"
subnet = "b"
private_ip = "10.0.2.10"
source_dest_check = false

[[instance.eni]]
subnet = "b"
private_ip = "10.0.2.11"
source_dest_check = false

[[instance]]
name = "web"
subnet = "a"
private_ip = "10.0.1.10"

[[instance]]
name = "far"
subnet = "o"
private_ip = "10.1.1.10"

[[internet_gateway]]
name = "igw"
vpc = "main"

[[internet_gateway]]
name = "far-igw"
vpc = "other"

[[internet_gateway]]
name = "spare"

[[nat_gateway]]
name = "nat"
subnet = "b"
connectivity = "private"

"#;

    /// Lines in `BASE`: a snippet appended to it starts on line `BASE_LINES + 1`.
    const BASE_LINES: usize = 64;

    snippet_helpers!();

    /// Route table `rt` of VPC `main` with the extra `keys` (whole lines) and `routes`;
    /// the `route` key is on line 4 of the snippet plus the lines of `keys`.
    fn table(keys: &str, routes: &str) -> String {
        format!("[[route_table]]\nname = \"rt\"\nvpc = \"main\"\n{keys}route = [{routes}]\n")
    }

    fn net(s: &str) -> ipnet::Ipv4Net {
        s.parse().unwrap()
    }

    fn route(destination: &str, target: RouteTarget, origin: RouteOrigin) -> Route {
        Route {
            destination: net(destination),
            target,
            origin,
        }
    }

    fn eni(t: &Topology, name: &str) -> RouteTarget {
        RouteTarget::Eni(
            t.find_eni(name)
                .unwrap_or_else(|| panic!("no interface {name}")),
        )
    }

    const LOCAL: RouteOrigin = RouteOrigin::Local;
    const STATIC: RouteOrigin = RouteOrigin::Static;

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
        ok("");
    }

    #[test]
    fn routes_into_the_vpc_services_block_are_refused() {
        assert_eq!(
            errors(&table(
                "",
                "{ destination = \"0.0.0.0/0\", instance = \"web\" }, { destination = \"169.254.169.254/32\", instance = \"web\" }, { destination = \"169.254.168.0/22\", nat_gateway = \"nat\" }",
            )),
            [
                format!(
                    "{}route_table[0].route[1].destination 169.254.169.254/32 is inside 169.254.168.0/22, which AWS reserves for the VPC's own services (DNS, instance metadata, time): no route may send it anywhere",
                    at(4, 75)
                ),
                format!(
                    "{}route_table[0].route[2].destination 169.254.168.0/22 is inside 169.254.168.0/22, which AWS reserves for the VPC's own services (DNS, instance metadata, time): no route may send it anywhere",
                    at(4, 133)
                ),
            ]
        );
        // Every address of the block, in any route table: the time service's too, in a
        // gateway route table; and with a broken target, both problems are reported.
        assert_eq!(
            errors(&table(
                "gateways = [\"igw\"]\n",
                "{ destination = \"169.254.169.123/32\", instance = \"web\" }, { destination = \"169.254.171.0/24\", instance = \"ghost\" }",
            )),
            [
                format!(
                    "{}route_table[0].route[0].destination 169.254.169.123/32 is inside 169.254.168.0/22, which AWS reserves for the VPC's own services (DNS, instance metadata, time): no route may send it anywhere",
                    at(5, 26)
                ),
                format!(
                    "{}route_table[0].route[1].destination 169.254.171.0/24 is inside 169.254.168.0/22, which AWS reserves for the VPC's own services (DNS, instance metadata, time): no route may send it anywhere",
                    at(5, 84)
                ),
                format!(
                    "{}route_table[0].route[1].instance \"ghost\" is not a declared instance",
                    at(5, 115)
                ),
            ]
        );
        // A destination that contains the block, or lies next to it, is allowed.
        let t = ok(&table(
            "",
            "{ destination = \"169.254.0.0/16\", instance = \"web\" }, { destination = \"169.254.172.0/22\", nat_gateway = \"nat\" }, { destination = \"169.254.160.0/21\", nat_gateway = \"nat\" }",
        ));
        let destinations: Vec<String> = t.route_tables[0]
            .routes
            .iter()
            .map(|r| r.destination.to_string())
            .collect();
        assert_eq!(
            destinations,
            [
                "10.0.0.0/16",
                "10.5.0.0/16",
                "169.254.0.0/16",
                "169.254.172.0/22",
                "169.254.160.0/21"
            ]
        );
    }

    #[test]
    fn a_network_interface_replaces_the_local_routes_target() {
        // By network_interface, with a static route after it.
        let t = ok(&table(
            "",
            "{ destination = \"0.0.0.0/0\", nat_gateway = \"nat\" }, { destination = \"10.0.0.0/16\", network_interface = \"fw/eth1\" }",
        ));
        assert_eq!(
            t.route_tables[0].routes,
            [
                route("10.0.0.0/16", eni(&t, "fw/eth1"), LOCAL),
                route("10.5.0.0/16", RouteTarget::Local, LOCAL),
                route(
                    "0.0.0.0/0",
                    RouteTarget::NatGateway(NatGatewayId(0)),
                    STATIC
                ),
            ]
        );
        // By instance, next to a middlebox route for a whole subnet.
        let t = ok(&table(
            "",
            "{ destination = \"10.0.0.0/16\", instance = \"web\" }, { destination = \"10.0.2.0/24\", network_interface = \"fw/eth0\" }",
        ));
        assert_eq!(
            t.route_tables[0].routes,
            [
                route("10.0.0.0/16", eni(&t, "web"), LOCAL),
                route("10.5.0.0/16", RouteTarget::Local, LOCAL),
                route("10.0.2.0/24", eni(&t, "fw/eth0"), STATIC),
            ]
        );
        // The secondary block's local route, and both at once.
        let t = ok(&table(
            "",
            "{ destination = \"10.5.0.0/16\", network_interface = \"fw/eth0\" }",
        ));
        assert_eq!(
            t.route_tables[0].routes,
            [
                route("10.0.0.0/16", RouteTarget::Local, LOCAL),
                route("10.5.0.0/16", eni(&t, "fw/eth0"), LOCAL),
            ]
        );
        let t = ok(&table(
            "",
            "{ destination = \"10.5.0.0/16\", network_interface = \"fw/eth0\" }, { destination = \"10.0.0.0/16\", network_interface = \"fw/eth1\" }",
        ));
        assert_eq!(
            t.route_tables[0].routes,
            [
                route("10.0.0.0/16", eni(&t, "fw/eth1"), LOCAL),
                route("10.5.0.0/16", eni(&t, "fw/eth0"), LOCAL),
            ]
        );
        // Other tables of the VPC keep their local routes.
        let main = t.route_table(t.vpcs[0].main_route_table);
        assert_eq!(
            main.routes,
            [
                route("10.0.0.0/16", RouteTarget::Local, LOCAL),
                route("10.5.0.0/16", RouteTarget::Local, LOCAL),
            ]
        );
    }

    #[test]
    fn only_a_network_interface_of_the_vpc_replaces_a_local_routes_target() {
        assert_eq!(
            errors(&table(
                "",
                "{ destination = \"10.0.0.0/16\", nat_gateway = \"nat\" }, { destination = \"10.5.0.0/16\", internet_gateway = \"igw\" }",
            )),
            [
                format!(
                    "{}route_table[0].route[0].destination 10.0.0.0/16 is the destination of the VPC's local route: only a network interface (an instance or network_interface target) can replace the local route's target",
                    at(4, 26)
                ),
                format!(
                    "{}route_table[0].route[1].destination 10.5.0.0/16 is the destination of the VPC's local route: only a network interface (an instance or network_interface target) can replace the local route's target",
                    at(4, 80)
                ),
            ]
        );
        assert_eq!(
            errors(&table(
                "",
                "{ destination = \"10.0.0.0/16\", instance = \"far\" }"
            )),
            [format!(
                "{}route_table[0].route[0].instance far is in vpc \"other\", the route table in vpc \"main\"",
                at(4, 52)
            )]
        );
        // One replacement per local route.
        assert_eq!(
            errors(&table(
                "",
                "{ destination = \"10.0.0.0/16\", instance = \"web\" }, { destination = \"10.0.0.0/16\", network_interface = \"fw/eth0\" }",
            )),
            [format!(
                "{}route_table[0].route[1].destination 10.0.0.0/16 is already the destination of route 0",
                at(4, 77)
            )]
        );
    }

    #[test]
    fn a_gateway_route_table_routes_inbound_traffic_to_appliances() {
        // A whole subnet's CIDR and a whole VPC block to interfaces; the table is also
        // the main table and has a subnet association.
        let t = ok(&table(
            "main = true\nsubnets = [\"b\"]\ngateways = [\"igw\"]\n",
            "{ destination = \"10.0.1.0/24\", network_interface = \"fw/eth0\" }, { destination = \"10.5.0.0/16\", network_interface = \"fw/eth1\" }",
        ));
        let rt = &t.route_tables[0];
        let igw = t.find_internet_gateway("igw").unwrap();
        assert_eq!(rt.gateways, [igw]);
        assert!(rt.main);
        assert_eq!(t.subnets[1].route_table, RouteTableId(0));
        assert_eq!(
            rt.routes,
            [
                route("10.0.0.0/16", RouteTarget::Local, LOCAL),
                route("10.5.0.0/16", eni(&t, "fw/eth1"), LOCAL),
                route("10.0.1.0/24", eni(&t, "fw/eth0"), STATIC),
            ]
        );
        assert_eq!(t.gateway_route_table(igw), Some(RouteTableId(0)));
        let far = t.find_internet_gateway("far-igw").unwrap();
        assert_eq!(t.gateway_route_table(far), None);
        // Tables without `gateways` have none; a gateway route table may have no route.
        assert!(t.route_tables[1].gateways.is_empty());
        let t = ok(&table("gateways = [\"igw\"]\n", ""));
        assert_eq!(t.route_tables[0].gateways, [igw]);
    }

    #[test]
    fn a_gateway_route_table_has_gateways_attached_to_its_vpc() {
        assert_eq!(
            errors(&table(
                "gateways = [\"nope\", \"spare\", \"far-igw\"]\n",
                ""
            )),
            [
                format!(
                    "{}route_table[0].gateways[0] \"nope\" is not a declared internet_gateway",
                    at(4, 13)
                ),
                format!(
                    "{}route_table[0].gateways[1] internet gateway \"spare\" is not attached to vpc \"main\" (it is detached)",
                    at(4, 21)
                ),
                format!(
                    "{}route_table[0].gateways[2] internet gateway \"far-igw\" is not attached to vpc \"main\" (it is attached to vpc \"other\")",
                    at(4, 30)
                ),
            ]
        );
        // A table whose VPC is broken reports only that.
        assert_eq!(
            errors("[[route_table]]\nname = \"rt\"\nvpc = \"gone\"\ngateways = [\"igw\"]\n"),
            [format!(
                "{}route_table[0].vpc \"gone\" is not a declared vpc",
                at(3, 7)
            )]
        );
        assert_eq!(
            errors(&table("gateway = [\"igw\"]\n", "")),
            [format!(
                "{}route_table[0].gateway unknown field `gateway`, expected one of `name`, `vpc`, `main`, `subnets`, `gateways`, `propagating_vgws`, `route`",
                at(4, 1)
            )]
        );
    }

    #[test]
    fn an_internet_gateway_has_one_gateway_route_table() {
        let two = "[[route_table]]\nname = \"rt1\"\nvpc = \"main\"\ngateways = [\"igw\"]\n\n[[route_table]]\nname = \"rt2\"\nvpc = \"main\"\ngateways = [\"igw\"]\n";
        assert_eq!(
            errors(two),
            [format!(
                "{}route_table[1].gateways[0] internet gateway \"igw\" is already associated with route table \"rt1\"; an internet gateway has at most one gateway route table",
                at(9, 13)
            )]
        );
        assert_eq!(
            errors(&table("gateways = [\"igw\", \"igw\"]\n", "")),
            [format!(
                "{}route_table[0].gateways[1] internet gateway \"igw\" is already associated with route table \"rt\"; an internet gateway has at most one gateway route table",
                at(4, 20)
            )]
        );
    }

    #[test]
    fn a_gateway_route_table_routes_only_inside_the_vpc_to_interfaces() {
        let gw = "gateways = [\"igw\"]\n";
        // 0.0.0.0/0 (even to an interface), and any CIDR outside the VPC's blocks.
        assert_eq!(
            errors(&table(
                gw,
                "{ destination = \"0.0.0.0/0\", instance = \"web\" }, { destination = \"10.1.1.0/24\", network_interface = \"fw/eth0\" }",
            )),
            [
                format!(
                    "{}route_table[0].route[0].destination 0.0.0.0/0 is outside vpc \"main\" (10.0.0.0/16, 10.5.0.0/16): a gateway route table (the table is associated with internet gateway \"igw\") may only route destinations inside its VPC's CIDR blocks",
                    at(5, 26)
                ),
                format!(
                    "{}route_table[0].route[1].destination 10.1.1.0/24 is outside vpc \"main\" (10.0.0.0/16, 10.5.0.0/16): a gateway route table (the table is associated with internet gateway \"igw\") may only route destinations inside its VPC's CIDR blocks",
                    at(5, 75)
                ),
            ]
        );
        // A NAT gateway target, even for a whole subnet's CIDR (middlebox routing in a
        // subnet's table); an internet gateway target outside the VPC: both problems.
        assert_eq!(
            errors(&table(
                gw,
                "{ destination = \"10.0.1.0/24\", nat_gateway = \"nat\" }, { destination = \"0.0.0.0/0\", internet_gateway = \"igw\" }",
            )),
            [
                format!(
                    "{}route_table[0].route[0].nat_gateway is not allowed in a gateway route table (the table is associated with internet gateway \"igw\"): its routes may only target a network interface (instance or network_interface)",
                    at(5, 55)
                ),
                format!(
                    "{}route_table[0].route[1].destination 0.0.0.0/0 is outside vpc \"main\" (10.0.0.0/16, 10.5.0.0/16): a gateway route table (the table is associated with internet gateway \"igw\") may only route destinations inside its VPC's CIDR blocks",
                    at(5, 80)
                ),
                format!(
                    "{}route_table[0].route[1].internet_gateway is not allowed in a gateway route table (the table is associated with internet gateway \"igw\"): its routes may only target a network interface (instance or network_interface)",
                    at(5, 112)
                ),
            ]
        );
        // Inside the VPC, an interface target still needs a whole subnet's CIDR.
        assert_eq!(
            errors(&table(
                gw,
                "{ destination = \"10.0.1.0/25\", network_interface = \"fw/eth0\" }"
            )),
            [format!(
                "{}route_table[0].route[0].destination 10.0.1.0/25 is more specific than the local route 10.0.0.0/16; AWS allows that only for a whole subnet's CIDR with a network interface or NAT gateway target",
                at(5, 26)
            )]
        );
        // The rules hold with an unknown gateway too: `gateways` makes it a gateway
        // route table.
        assert_eq!(
            problems(&table(
                "gateways = [\"nope\"]\n",
                "{ destination = \"10.0.1.0/24\", nat_gateway = \"nat\" }"
            )),
            [
                Problem::UnknownInternetGateway("nope".into()),
                Problem::GatewayRouteTableTarget { igw: "nope".into() },
            ]
        );
    }

    fn problems(extra: &str) -> Vec<Problem> {
        match parse(&format!("{BASE}{extra}"), "t.toml") {
            Err(ConfigError::Invalid(d)) => d.into_iter().map(|d| d.problem).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn the_ingress_routing_example_is_as_its_comment_says() {
        let src = include_str!("../../../../config/ingress-routing.toml");
        let t = parse(src, "ingress-routing.toml").unwrap_or_else(|e| panic!("{e}"));
        let igw = t.find_internet_gateway("igw").unwrap();
        let fw = t.find_eni("fw").unwrap();
        let web = t.find_eni("web").unwrap();
        assert!(!t.eni(fw).source_dest_check);
        assert_eq!(t.eni(fw).private_ip.to_string(), "10.0.2.10");
        assert_eq!(t.eni(web).private_ip.to_string(), "10.0.1.10");
        let ingress = t.gateway_route_table(igw).unwrap();
        assert_eq!(t.route_table(ingress).name, "ingress-rt");
        let routes = |name: &str| {
            let rt = t.route_tables.iter().find(|r| r.name == name).unwrap();
            rt.routes
                .iter()
                .map(|r| (r.destination.to_string(), t.route_target_name(r.target)))
                .collect::<Vec<_>>()
        };
        let pair = |d: &str, t: &str| (d.to_string(), t.to_string());
        assert_eq!(
            routes("ingress-rt"),
            [pair("10.0.0.0/16", "local"), pair("10.0.1.0/24", "fw/eth0")]
        );
        assert_eq!(
            routes("public-rt"),
            [pair("10.0.0.0/16", "local"), pair("0.0.0.0/0", "fw/eth0")]
        );
        assert_eq!(
            routes("appliance-rt"),
            [pair("10.0.0.0/16", "local"), pair("0.0.0.0/0", "igw")]
        );
        let table_of = |subnet: &str| {
            let s = t.subnets.iter().find(|s| s.name == subnet).unwrap();
            t.route_table(s.route_table).name.as_str()
        };
        assert_eq!(table_of("public"), "public-rt");
        assert_eq!(table_of("appliance"), "appliance-rt");
        let public: Vec<String> = t
            .public_mappings()
            .iter()
            .map(|(_, private, public)| format!("{private}={public}"))
            .collect();
        assert_eq!(
            public,
            ["10.0.2.10=198.51.100.40", "10.0.1.10=198.51.100.41"]
        );
        assert_eq!(t.internet_hosts[0].address.to_string(), "203.0.113.10");
    }
}
