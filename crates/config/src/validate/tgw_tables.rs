//! Transit gateway route tables, with AWS's rules (Transit Gateway guide: "Transit
//! gateway route tables", "Associations", "Route propagation", "Default route table",
//! "Static routes"):
//!
//! - Names are valid and unique among transit gateway route tables. A table belongs to
//!   a declared transit gateway.
//! - `associations` names attachments of the table's gateway (a peering attachment is
//!   one of both its gateways), each once. An attachment is associated with at most
//!   one table of a gateway; a peering attachment may be associated with one table on
//!   each of its two gateways.
//! - `propagations` names VPC attachments of the gateway, each once: a peering
//!   attachment propagates nothing (AWS: static routes only).
//! - A static route has a canonical destination, unique in the table, and exactly one
//!   of `transit_gateway_attachment` (an attachment of the gateway, any status: a
//!   route to one that is not available is `blackhole`) and `blackhole = true`.
//! - Default route table: a gateway with `default_route_table_association` or
//!   `default_route_table_propagation` enabled has one. It is the table declared with
//!   `default = true` (at most one per gateway; not allowed when both options are
//!   disabled), else an implicit table named `<gateway>-default` (vpcd's choice of
//!   name; a declared table may not take it), appended after the declared tables in
//!   gateway order. With association enabled every VPC attachment of the gateway that
//!   no table of the gateway associates explicitly is associated with it; with
//!   propagation enabled every VPC attachment of the gateway propagates into it (as
//!   well as where it propagates explicitly). Peering attachments are never
//!   associated or propagated by default, nor are deleted attachments, nor a VPC
//!   attachment that declines the default (`default_route_table_association` or
//!   `default_route_table_propagation` = `"disable"`: what a disassociation or a
//!   disabled propagation at run time leaves). This is done by `build`, after every
//!   check.
//! - A deleted attachment is in no table's `associations` or `propagations` (deleting
//!   it removed them); static routes to it stay, `blackhole`.

use std::collections::HashMap;

use ipnet::Ipv4Net;
use toml::Spanned;

use super::transit::{PendingKind, once};
use super::{Checker, lookup, names, parse_cidr};
use crate::error::Problem;
use crate::fabric::*;
use crate::topology::*;

/// A transit gateway route table being checked: its valid parts.
pub(super) struct PendingTable {
    /// `None`: an unknown gateway.
    pub tgw: Option<TransitGatewayId>,
    pub default: bool,
    pub associations: Vec<TgwAttachmentId>,
    pub propagations: Vec<TgwAttachmentId>,
    pub routes: Vec<TgwRoute>,
    pub broken: bool,
}

impl<'a> Checker<'_, 'a, '_> {
    /// Gateways, default flags, associations, propagations, routes; the names of the
    /// implicit default tables.
    pub(super) fn tgw_route_tables(&mut self) {
        let raw = self.raw;
        let table_names = names(
            self.r,
            "transit_gateway_route_table",
            raw.transit_gateway_route_table.iter().map(|t| &t.name),
        );
        // (attachment, gateway) -> the table that associates it on that gateway.
        let mut associated: HashMap<(TgwAttachmentId, TransitGatewayId), usize> = HashMap::new();
        for (i, t) in raw.transit_gateway_route_table.iter().enumerate() {
            let path = format!("transit_gateway_route_table[{i}]");
            let tgw: Option<TransitGatewayId> = lookup(
                self.r,
                &self.tr.tgw_names,
                &t.transit_gateway,
                format!("{path}.transit_gateway"),
                Problem::UnknownTransitGateway,
            );
            let mut table = PendingTable {
                tgw,
                default: false,
                associations: Vec::new(),
                propagations: Vec::new(),
                routes: Vec::new(),
                broken: tgw.is_none(),
            };
            if let (Some(d), Some(g)) = (t.default.as_ref().filter(|d| *d.get_ref()), tgw) {
                let gw = &self.tr.tgws[g.index()];
                let tgw_name = t.transit_gateway.get_ref().clone();
                let problem = if let Some(&other) = self.tr.default_tables.get(&g) {
                    Some(Problem::SecondDefaultTgwRouteTable {
                        tgw: tgw_name,
                        other: raw.transit_gateway_route_table[other]
                            .name
                            .get_ref()
                            .clone(),
                    })
                } else if gw.association == Some(false) && gw.propagation == Some(false) {
                    Some(Problem::DefaultTableWithoutDefaults { tgw: tgw_name })
                } else {
                    self.tr.default_tables.insert(g, i);
                    table.default = true;
                    None
                };
                if let Some(problem) = problem {
                    self.r.report(d.span(), format!("{path}.default"), problem);
                    table.broken = true;
                }
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (j, a) in t.associations.iter().enumerate() {
                let field = format!("{path}.associations[{j}]");
                if !once(self.r, &mut seen, a, "associations", j, &field) {
                    table.broken = true;
                    continue;
                }
                let Some(att) = self.attachment_on(tgw, a, field.clone()) else {
                    table.broken = true;
                    continue;
                };
                if self.deleted_attachment(att, a, &field) {
                    table.broken = true;
                    continue;
                }
                let Some(g) = tgw else { continue };
                match associated.get(&(att, g)) {
                    Some(&other) => {
                        let problem = Problem::SecondTgwAssociation {
                            attachment: a.get_ref().clone(),
                            other: raw.transit_gateway_route_table[other]
                                .name
                                .get_ref()
                                .clone(),
                        };
                        self.r.report(a.span(), field, problem);
                        table.broken = true;
                    }
                    None => {
                        associated.insert((att, g), i);
                        table.associations.push(att);
                    }
                }
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (j, a) in t.propagations.iter().enumerate() {
                let field = format!("{path}.propagations[{j}]");
                if !once(self.r, &mut seen, a, "propagations", j, &field) {
                    table.broken = true;
                    continue;
                }
                let Some(att) = self.attachment_on(tgw, a, field.clone()) else {
                    table.broken = true;
                    continue;
                };
                if self.deleted_attachment(att, a, &field) {
                    table.broken = true;
                    continue;
                }
                if let PendingKind::Peering { .. } = self.tr.atts[att.index()].kind {
                    let problem = Problem::PropagationFromPeering(a.get_ref().clone());
                    self.r.report(a.span(), field, problem);
                    table.broken = true;
                    continue;
                }
                table.propagations.push(att);
            }
            self.tgw_routes_of(i, tgw, &mut table);
            self.tr.tables.push(table);
        }
        for (g, gw) in raw.transit_gateway.iter().enumerate() {
            let p = &self.tr.tgws[g];
            let needs = p.association == Some(true) || p.propagation == Some(true);
            if !needs
                || self
                    .tr
                    .default_tables
                    .contains_key(&TransitGatewayId(g as u32))
            {
                continue;
            }
            let name = format!("{}-default", gw.name.get_ref());
            if let Some(&i) = table_names.get(name.as_str()) {
                let declared = &raw.transit_gateway_route_table[i].name;
                let problem = Problem::ImplicitTableNameTaken {
                    name,
                    tgw: gw.name.get_ref().clone(),
                };
                let field = format!("transit_gateway_route_table[{i}].name");
                self.r.report(declared.span(), field, problem);
            }
        }
    }

    /// The static routes of declared table `i` of gateway `tgw`, into `table`.
    fn tgw_routes_of(&mut self, i: usize, tgw: Option<TransitGatewayId>, table: &mut PendingTable) {
        let raw = &self.raw.transit_gateway_route_table[i];
        let mut seen: HashMap<Ipv4Net, usize> = HashMap::new();
        for (j, route) in raw.route.iter().enumerate() {
            let path = format!("transit_gateway_route_table[{i}].route[{j}]");
            let r = route.get_ref();
            let dest_field = format!("{path}.destination");
            let destination = parse_cidr(self.r, &r.destination, dest_field.clone());
            let destination = destination.filter(|&d| match seen.get(&d) {
                Some(&index) => {
                    let problem = Problem::DuplicateRoute {
                        destination: d,
                        index,
                    };
                    self.r
                        .report(r.destination.span(), dest_field.clone(), problem);
                    false
                }
                None => {
                    seen.insert(d, j);
                    true
                }
            });
            let blackhole = r.blackhole.as_ref().is_some_and(|b| *b.get_ref());
            let found = r.transit_gateway_attachment.is_some() as usize + blackhole as usize;
            let target = match &r.transit_gateway_attachment {
                _ if found != 1 => {
                    let problem = Problem::TgwRouteTargetCount { found };
                    self.r.report(route.span(), path, problem);
                    None
                }
                Some(a) => {
                    let field = format!("{path}.transit_gateway_attachment");
                    self.attachment_on(tgw, a, field)
                        .map(TgwRouteTarget::Attachment)
                }
                None => Some(TgwRouteTarget::Blackhole),
            };
            match (destination, target) {
                (Some(destination), Some(target)) => {
                    table.routes.push(TgwRoute {
                        destination,
                        target,
                    });
                }
                _ => table.broken = true,
            }
        }
    }

    /// Whether attachment `att` (named by `reference`, at `field`) is deleted, which an
    /// association or propagation cannot name; reports it if so.
    pub(super) fn deleted_attachment(
        &mut self,
        att: TgwAttachmentId,
        reference: &Spanned<String>,
        field: &str,
    ) -> bool {
        let deleted = self.tr.atts[att.index()].status == Some(AttachmentStatus::Deleted);
        if deleted {
            let problem = Problem::DeletedAttachment(reference.get_ref().clone());
            self.r.report(reference.span(), field, problem);
        }
        deleted
    }

    /// The attachment `reference` names (at `field`), which must be one of gateway
    /// `tgw` (a peering attachment is one of both its gateways). `None`, reported, if
    /// there is no such attachment or it is another gateway's; `None` unreported if
    /// the attachment's or `tgw`'s gateway is unknown (reported already).
    pub(super) fn attachment_on(
        &mut self,
        tgw: Option<TransitGatewayId>,
        reference: &Spanned<String>,
        field: String,
    ) -> Option<TgwAttachmentId> {
        let id: TgwAttachmentId = lookup(
            self.r,
            &self.tr.att_names,
            reference,
            field.clone(),
            Problem::UnknownTgwAttachment,
        )?;
        let tgw = tgw?;
        let a = &self.tr.atts[id.index()];
        let own = a.tgw?;
        let peer = match a.kind {
            PendingKind::Peering { peer } => Some(peer?),
            PendingKind::Vpc { .. } => None,
        };
        if own == tgw || peer == Some(tgw) {
            return Some(id);
        }
        let name = |g: TransitGatewayId| self.raw.transit_gateway[g.index()].name.get_ref();
        let on = match peer {
            None => format!("transit gateway {:?}", name(own)),
            Some(p) => format!("transit gateways {:?} and {:?}", name(own), name(p)),
        };
        let problem = Problem::AttachmentNotOnTgw {
            attachment: reference.get_ref().clone(),
            on,
            tgw: name(tgw).clone(),
        };
        self.r.report(reference.span(), field, problem);
        None
    }

    /// The declared tables, then the implicit default tables; sets each gateway's
    /// default table and applies the default associations and propagations.
    pub(super) fn build_tgw_tables(
        &self,
        tgws: &mut [TransitGateway],
        atts: &[TgwAttachment],
    ) -> Option<Vec<TgwRouteTable>> {
        let mut tables = Vec::new();
        for (i, t) in self.raw.transit_gateway_route_table.iter().enumerate() {
            let p = &self.tr.tables[i];
            if p.broken {
                return None;
            }
            tables.push(TgwRouteTable {
                name: t.name.get_ref().clone(),
                transit_gateway: p.tgw?,
                default: p.default,
                associations: p.associations.clone(),
                propagations: p.propagations.clone(),
                routes: p.routes.clone(),
            });
        }
        for (g, gw) in tgws.iter_mut().enumerate() {
            let id = TransitGatewayId(g as u32);
            let (association, propagation) = (
                gw.default_route_table_association,
                gw.default_route_table_propagation,
            );
            if !association && !propagation {
                continue;
            }
            let d = match self.tr.default_tables.get(&id) {
                Some(&i) => i,
                None => {
                    tables.push(TgwRouteTable {
                        name: format!("{}-default", gw.name),
                        transit_gateway: id,
                        default: true,
                        associations: Vec::new(),
                        propagations: Vec::new(),
                        routes: Vec::new(),
                    });
                    tables.len() - 1
                }
            };
            gw.default_route_table = Some(TgwRouteTableId(d as u32));
            for (a, att) in atts.iter().enumerate() {
                let PendingKind::Vpc {
                    defaults: (Some(takes_association), Some(takes_propagation)),
                    ..
                } = self.tr.atts[a].kind
                else {
                    continue;
                };
                if att.transit_gateway != id || att.status == AttachmentStatus::Deleted {
                    continue;
                }
                let association = association && takes_association;
                let propagation = propagation && takes_propagation;
                let att = TgwAttachmentId(a as u32);
                let explicit = tables
                    .iter()
                    .any(|t| t.transit_gateway == id && t.associations.contains(&att));
                if association && !explicit {
                    tables[d].associations.push(att);
                }
                if propagation && !tables[d].propagations.contains(&att) {
                    tables[d].propagations.push(att);
                }
            }
        }
        Some(tables)
    }
}

#[cfg(test)]
mod tests {
    use crate::fabric::*;
    use crate::topology::*;
    use crate::{ConfigError, Problem, parse};

    /// VPCs `a` (10.1.0.0/16), `b` (10.2.0.0/16 and 10.22.0.0/16), `c` (10.3.0.0/16)
    /// and `e` (10.1.0.0/16 again), one subnet each; transit gateways `tgw` (default
    /// association and propagation), `bare` (neither) and `west`; attachments `att-a`,
    /// `att-b` and `att-e` to `tgw`, `att-c` to `bare`, and peering attachment `tp`
    /// from `tgw` to `west`.
    const BASE: &str = r#"[[vpc]]
name = "a"
cidr = "10.1.0.0/16"

[[vpc]]
name = "b"
cidr = "10.2.0.0/16"
secondary_cidrs = ["10.22.0.0/16"]

[[vpc]]
name = "c"
cidr = "10.3.0.0/16"

[[vpc]]
name = "e"
cidr = "10.1.0.0/16"

[[subnet]]
name = "a-1"
vpc = "a"
cidr = "10.1.1.0/24"
az = "x"

[[subnet]]
name = "b-1"
vpc = "b"
cidr = "10.2.1.0/24"
az = "x"

[[subnet]]
name = "c-1"
vpc = "c"
cidr = "10.3.1.0/24"
az = "x"

[[subnet]]
name = "e-1"
vpc = "e"
cidr = "10.1.1.0/24"
az = "x"

[[transit_gateway]]
name = "tgw"

[[transit_gateway]]
name = "bare"
default_route_table_association = "disable"
default_route_table_propagation = "disable"

[[transit_gateway]]
name = "west"

[[transit_gateway_vpc_attachment]]
name = "att-a"
transit_gateway = "tgw"
vpc = "a"
subnets = ["a-1"]

[[transit_gateway_vpc_attachment]]
name = "att-b"
transit_gateway = "tgw"
vpc = "b"
subnets = ["b-1"]

[[transit_gateway_vpc_attachment]]
name = "att-c"
transit_gateway = "bare"
vpc = "c"
subnets = ["c-1"]

[[transit_gateway_vpc_attachment]]
name = "att-e"
transit_gateway = "tgw"
vpc = "e"
subnets = ["e-1"]

[[transit_gateway_peering_attachment]]
name = "tp"
transit_gateway = "tgw"
peer_transit_gateway = "west"
"#;

    /// Lines in `BASE`: a snippet appended to it starts on line `BASE_LINES + 1`.
    const BASE_LINES: usize = 80;

    snippet_helpers!();

    fn problems(extra: &str) -> Vec<Problem> {
        match parse(&format!("{BASE}{extra}"), "t.toml") {
            Err(ConfigError::Invalid(d)) => d.into_iter().map(|d| d.problem).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    /// Table `name` of `tgw` with `keys` (whole lines, without a final newline): the
    /// keys start on line 4.
    fn table(name: &str, tgw: &str, keys: &str) -> String {
        format!(
            "[[transit_gateway_route_table]]\nname = \"{name}\"\ntransit_gateway = \"{tgw}\"\n{keys}\n"
        )
    }

    fn att(t: &Topology, name: &str) -> TgwAttachmentId {
        let i = t.tgw_attachments.iter().position(|a| a.name == name);
        TgwAttachmentId(i.unwrap_or_else(|| panic!("no attachment {name}")) as u32)
    }

    fn find(t: &Topology, name: &str) -> TgwRouteTableId {
        let i = t.tgw_route_tables.iter().position(|r| r.name == name);
        TgwRouteTableId(i.unwrap_or_else(|| panic!("no table {name}")) as u32)
    }

    /// The effective routes of table `name`: (destination, target, type, state).
    fn routes(t: &Topology, name: &str) -> Vec<(String, String, &'static str, &'static str)> {
        t.tgw_routes(find(t, name))
            .iter()
            .map(|e| {
                (
                    e.destination.to_string(),
                    t.tgw_route_target_name(e.target).to_owned(),
                    e.route_type.aws_name(),
                    e.state.aws_name(),
                )
            })
            .collect()
    }

    fn row(
        d: &str,
        target: &str,
        ty: &'static str,
        state: &'static str,
    ) -> (String, String, &'static str, &'static str) {
        (d.to_owned(), target.to_owned(), ty, state)
    }

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
        ok("");
    }

    #[test]
    fn a_gateway_with_defaults_gets_an_implicit_default_table() {
        let t = ok("");
        assert_eq!(t.tgw_route_tables.len(), 2);
        let d = &t.tgw_route_tables[0];
        assert_eq!(d.name, "tgw-default");
        assert!(d.default);
        let (a, b, e, tp) = (
            att(&t, "att-a"),
            att(&t, "att-b"),
            att(&t, "att-e"),
            att(&t, "tp"),
        );
        // VPC attachments only: the peering attachment is neither associated nor
        // propagating by default.
        assert_eq!(d.associations, [a, b, e]);
        assert_eq!(d.propagations, [a, b, e]);
        assert_eq!(
            t.transit_gateways[0].default_route_table,
            Some(TgwRouteTableId(0))
        );
        assert_eq!(t.transit_gateways[1].default_route_table, None);
        assert_eq!(t.tgw_route_tables[1].name, "west-default");
        assert!(t.tgw_route_tables[1].associations.is_empty());
        assert_eq!(t.tgw_association(a), Some(TgwRouteTableId(0)));
        assert_eq!(t.tgw_association(tp), None);
        assert_eq!(t.tgw_association(att(&t, "att-c")), None);
        // att-e's 10.1.0.0/16 ties with att-a's: the first attachment keeps it.
        assert_eq!(
            routes(&t, "tgw-default"),
            [
                row("10.1.0.0/16", "att-a", "propagated", "active"),
                row("10.2.0.0/16", "att-b", "propagated", "active"),
                row("10.22.0.0/16", "att-b", "propagated", "active"),
            ]
        );
    }

    #[test]
    fn declared_tables_associate_propagate_and_route() {
        let src = table(
            "spokes",
            "tgw",
            "associations = [\"att-a\"]\npropagations = [\"att-b\"]\nroute = [\n  { destination = \"10.99.0.0/16\", blackhole = true },\n  { destination = \"0.0.0.0/0\", transit_gateway_attachment = \"tp\" },\n  { destination = \"10.2.0.0/16\", transit_gateway_attachment = \"att-a\" },\n]",
        ) + &table(
            "c-rt",
            "bare",
            "associations = [\"att-c\"]\npropagations = [\"att-c\"]",
        );
        let t = ok(&src);
        let spokes = &t.tgw_route_tables[0];
        assert!(!spokes.default);
        assert_eq!(spokes.associations, [att(&t, "att-a")]);
        assert_eq!(spokes.routes.len(), 3);
        // The default table takes what is not associated explicitly, and every
        // propagation.
        let d = t.tgw_route_table(find(&t, "tgw-default"));
        assert_eq!(d.associations, [att(&t, "att-b"), att(&t, "att-e")]);
        assert_eq!(d.propagations.len(), 3);
        assert_eq!(t.tgw_association(att(&t, "att-c")), Some(find(&t, "c-rt")));
        // A static route wins over the propagated one of its prefix.
        assert_eq!(
            routes(&t, "spokes"),
            [
                row("0.0.0.0/0", "tp", "static", "active"),
                row("10.2.0.0/16", "att-a", "static", "active"),
                row("10.22.0.0/16", "att-b", "propagated", "active"),
                row("10.99.0.0/16", "blackhole", "static", "blackhole"),
            ]
        );
        assert_eq!(
            routes(&t, "c-rt"),
            [row("10.3.0.0/16", "att-c", "propagated", "active")]
        );
        // An attachment that is not available propagates nothing, and static routes
        // to it are blackhole.
        let mut t = ok(&src);
        let tp = att(&t, "tp");
        t.tgw_attachments[tp.index()].status = AttachmentStatus::PendingAcceptance;
        assert_eq!(
            routes(&t, "spokes")[0],
            row("0.0.0.0/0", "tp", "static", "blackhole")
        );
        let b = att(&t, "att-b");
        t.tgw_attachments[b.index()].status = AttachmentStatus::Deleted;
        assert_eq!(
            routes(&t, "spokes"),
            [
                row("0.0.0.0/0", "tp", "static", "blackhole"),
                row("10.2.0.0/16", "att-a", "static", "active"),
                row("10.99.0.0/16", "blackhole", "static", "blackhole"),
            ]
        );
    }

    #[test]
    fn a_declared_default_table_takes_the_defaults() {
        let t = ok(&table(
            "main",
            "tgw",
            "default = true\npropagations = [\"att-a\"]",
        ));
        assert_eq!(t.tgw_route_tables.len(), 2);
        let main = &t.tgw_route_tables[0];
        assert!(main.default && main.name == "main");
        assert_eq!(
            t.transit_gateways[0].default_route_table,
            Some(TgwRouteTableId(0))
        );
        assert_eq!(main.associations.len(), 3);
        assert_eq!(
            main.propagations,
            [att(&t, "att-a"), att(&t, "att-b"), att(&t, "att-e")]
        );
        // Association only: every VPC attachment is associated, nothing propagates.
        let src = BASE.replace(
            "name = \"tgw\"\n",
            "name = \"tgw\"\ndefault_route_table_propagation = \"disable\"\n",
        );
        let t = parse(&src, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.tgw_route_tables[0].associations.len(), 3);
        assert!(t.tgw_route_tables[0].propagations.is_empty());
        assert!(t.tgw_routes(TgwRouteTableId(0)).is_empty());
    }

    #[test]
    fn a_peering_attachment_is_associated_on_each_gateway() {
        let t = ok(&(table("east-rt", "tgw", "associations = [\"tp\"]")
            + &table(
                "west-rt",
                "west",
                "associations = [\"tp\"]\nroute = [{ destination = \"10.0.0.0/8\", transit_gateway_attachment = \"tp\" }]",
            )));
        let tp = att(&t, "tp");
        assert_eq!(t.tgw_association(tp), Some(find(&t, "east-rt")));
        assert_eq!(
            t.tgw_association_on(tp, TransitGatewayId(2)),
            Some(find(&t, "west-rt"))
        );
        assert_eq!(
            routes(&t, "west-rt"),
            [row("10.0.0.0/8", "tp", "static", "active")]
        );
    }

    #[test]
    fn associations_and_propagations_are_the_gateways_attachments() {
        assert_eq!(
            errors(
                &(table(
                    "one",
                    "tgw",
                    "associations = [\"att-a\", \"att-c\", \"nope\", \"att-a\"]\npropagations = [\"tp\", \"att-b\", \"att-b\"]"
                ) + &table("two", "tgw", "associations = [\"att-a\"]"))
            ),
            [
                format!(
                    "{}transit_gateway_route_table[0].associations[1] \"att-c\" is an attachment of transit gateway \"bare\", not of transit gateway \"tgw\"",
                    at(4, 26)
                ),
                format!(
                    "{}transit_gateway_route_table[0].associations[2] \"nope\" is not a declared transit gateway attachment (transit_gateway_vpc_attachment or transit_gateway_peering_attachment)",
                    at(4, 35)
                ),
                format!(
                    "{}transit_gateway_route_table[0].associations[3] \"att-a\" is already associations[0]",
                    at(4, 43)
                ),
                format!(
                    "{}transit_gateway_route_table[0].propagations[0] \"tp\" is a peering attachment: peering attachments propagate no routes (route to it with a static route)",
                    at(5, 17)
                ),
                format!(
                    "{}transit_gateway_route_table[0].propagations[2] \"att-b\" is already propagations[1]",
                    at(5, 32)
                ),
                format!(
                    "{}transit_gateway_route_table[1].associations[0] transit gateway attachment \"att-a\" is already associated with transit_gateway_route_table \"one\"; an attachment is associated with one route table of its transit gateway",
                    at(9, 17)
                ),
            ]
        );
        assert_eq!(
            errors(&table("x", "bare", "associations = [\"tp\"]")),
            [format!(
                "{}transit_gateway_route_table[0].associations[0] \"tp\" is an attachment of transit gateways \"tgw\" and \"west\", not of transit gateway \"bare\"",
                at(4, 17)
            )]
        );
        assert_eq!(
            problems(&table("x", "nope", "associations = [\"att-a\"]")),
            [Problem::UnknownTransitGateway("nope".into())]
        );
    }

    #[test]
    fn static_routes_have_one_target_and_unique_destinations() {
        assert_eq!(
            errors(&table(
                "x",
                "tgw",
                "route = [\n  { destination = \"10.9.0.0/16\" },\n  { destination = \"10.8.0.0/16\", blackhole = true, transit_gateway_attachment = \"att-a\" },\n  { destination = \"10.7.0.0/16\", transit_gateway_attachment = \"att-c\" },\n  { destination = \"10.6.0.0/16\", blackhole = true },\n  { destination = \"10.6.0.0/16\", blackhole = true },\n  { destination = \"10.5.0.1/16\", blackhole = true },\n]"
            )),
            [
                format!(
                    "{}transit_gateway_route_table[0].route[0] must have exactly one target: transit_gateway_attachment or blackhole = true (found 0)",
                    at(5, 3)
                ),
                format!(
                    "{}transit_gateway_route_table[0].route[1] must have exactly one target: transit_gateway_attachment or blackhole = true (found 2)",
                    at(6, 3)
                ),
                format!(
                    "{}transit_gateway_route_table[0].route[2].transit_gateway_attachment \"att-c\" is an attachment of transit gateway \"bare\", not of transit gateway \"tgw\"",
                    at(7, 63)
                ),
                format!(
                    "{}transit_gateway_route_table[0].route[4].destination 10.6.0.0/16 is already the destination of route 3",
                    at(9, 19)
                ),
                format!(
                    "{}transit_gateway_route_table[0].route[5].destination 10.5.0.1/16 is not canonical: host bits are set (did you mean 10.5.0.0/16?)",
                    at(10, 19)
                ),
            ]
        );
        // `blackhole = false` is no target.
        assert_eq!(
            problems(&table(
                "x",
                "tgw",
                "route = [{ destination = \"10.9.0.0/16\", blackhole = false }]"
            )),
            [Problem::TgwRouteTargetCount { found: 0 }]
        );
    }

    #[test]
    fn one_default_table_per_gateway_and_the_implicit_name_is_kept() {
        assert_eq!(
            errors(
                &(table("d1", "tgw", "default = true")
                    + &table("d2", "tgw", "default = true")
                    + &table("d3", "bare", "default = true")
                    + &table("west-default", "tgw", ""))
            ),
            [
                format!(
                    "{}transit_gateway_route_table[1].default transit gateway \"tgw\" already has default route table \"d1\"",
                    at(8, 11)
                ),
                format!(
                    "{}transit_gateway_route_table[2].default transit gateway \"bare\" has default_route_table_association and default_route_table_propagation disabled: it has no default route table",
                    at(12, 11)
                ),
                format!(
                    "{}transit_gateway_route_table[3].name \"west-default\" is the name of transit gateway \"west\"'s implicit default route table: declare that table with default = true, or choose another name",
                    at(14, 8)
                ),
            ]
        );
        // `default = false` is an ordinary table.
        let t = ok(&table("plain", "tgw", "default = false"));
        assert!(!t.tgw_route_tables[0].default);
        assert_eq!(t.tgw_route_tables.len(), 3);
    }

    /// Every table of `t` with its effective routes as `destination target`.
    fn all_routes(t: &Topology) -> Vec<(String, Vec<String>)> {
        (0..t.tgw_route_tables.len())
            .map(|i| {
                let id = TgwRouteTableId(i as u32);
                let routes = t
                    .tgw_routes(id)
                    .iter()
                    .map(|e| format!("{} {}", e.destination, t.tgw_route_target_name(e.target)))
                    .collect();
                (t.tgw_route_table(id).name.clone(), routes)
            })
            .collect()
    }

    fn table_routes(name: &str, routes: &[&str]) -> (String, Vec<String>) {
        (
            name.to_owned(),
            routes.iter().map(|r| r.to_string()).collect(),
        )
    }

    #[test]
    fn the_tgw_peering_example_is_as_its_comment_says() {
        let src = include_str!("../../../../config/tgw-peering.toml");
        let t = parse(src, "tgw-peering.toml").unwrap_or_else(|e| panic!("{e}"));
        let gws: Vec<(&str, &str, u32)> = t
            .transit_gateways
            .iter()
            .map(|g| (g.name.as_str(), g.region.as_str(), g.amazon_side_asn))
            .collect();
        assert_eq!(
            gws,
            [
                ("tgw-east", "us-east-1", 64512),
                ("tgw-west", "eu-west-1", 64513)
            ]
        );
        let ew = t.find_tgw_attachment("east-west").unwrap();
        assert_eq!(t.tgw_attachment(ew).status, AttachmentStatus::Available);
        assert_eq!(
            t.tgw_attachment(ew).kind,
            TgwAttachmentKind::Peering {
                peer: TransitGatewayId(1)
            }
        );
        assert_eq!(
            all_routes(&t),
            [
                table_routes(
                    "east-rt",
                    &["10.30.0.0/16 att-east", "10.40.0.0/16 east-west"]
                ),
                table_routes(
                    "west-rt",
                    &["10.30.0.0/16 east-west", "10.40.0.0/16 att-west"]
                ),
            ]
        );
        let east_rt = t.find_tgw_route_table("east-rt");
        let west_rt = t.find_tgw_route_table("west-rt");
        assert_eq!(t.transit_gateways[0].default_route_table, east_rt);
        assert_eq!(t.transit_gateways[1].default_route_table, west_rt);
        assert_eq!(t.tgw_association(ew), east_rt);
        assert_eq!(t.tgw_association_on(ew, TransitGatewayId(1)), west_rt);
        let att = |n: &str| t.find_tgw_attachment(n).unwrap();
        assert_eq!(t.tgw_association(att("att-east")), east_rt);
        assert_eq!(t.tgw_association(att("att-west")), west_rt);
        let vpc_routes: Vec<String> = t
            .vpcs
            .iter()
            .map(|v| {
                let r = &t.route_table(v.main_route_table).routes[1];
                format!(
                    "{} {} {}",
                    v.region,
                    r.destination,
                    t.route_target_name(r.target)
                )
            })
            .collect();
        assert_eq!(
            vpc_routes,
            [
                "us-east-1 10.40.0.0/16 tgw-east",
                "eu-west-1 10.30.0.0/16 tgw-west"
            ]
        );
    }

    #[test]
    fn the_appliance_mode_example_is_as_its_comment_says() {
        let src = include_str!("../../../../config/appliance-mode.toml");
        let t = parse(src, "appliance-mode.toml").unwrap_or_else(|e| panic!("{e}"));
        let inspect = t.tgw_attachment(t.find_tgw_attachment("att-inspect").unwrap());
        let TgwAttachmentKind::Vpc {
            subnets,
            private_ips,
            appliance_mode,
            ..
        } = &inspect.kind
        else {
            panic!("att-inspect is a VPC attachment");
        };
        assert!(appliance_mode);
        let zones: Vec<(&str, &str, String)> = subnets
            .iter()
            .zip(private_ips)
            .map(|(&s, ip)| {
                let s = t.subnet(s);
                (s.name.as_str(), s.az.as_str(), ip.to_string())
            })
            .collect();
        assert_eq!(
            zones,
            [
                ("inspect-tgw-a", "a", "10.20.101.4".to_string()),
                ("inspect-tgw-b", "b", "10.20.102.4".to_string()),
            ]
        );
        for other in ["att-app1", "att-app2"] {
            let a = t.tgw_attachment(t.find_tgw_attachment(other).unwrap());
            assert!(matches!(
                a.kind,
                TgwAttachmentKind::Vpc {
                    appliance_mode: false,
                    ..
                }
            ));
        }
        assert_eq!(
            all_routes(&t),
            [
                table_routes("spoke-rt", &["0.0.0.0/0 att-inspect"]),
                table_routes(
                    "inspect-rt",
                    &["10.21.0.0/16 att-app1", "10.22.0.0/16 att-app2"]
                ),
            ]
        );
        let table_of = |subnet: &str| {
            let s = t.subnets.iter().find(|s| s.name == subnet).unwrap();
            let rt = t.route_table(s.route_table);
            let routes: Vec<String> = rt.routes[1..]
                .iter()
                .map(|r| format!("{} {}", r.destination, t.route_target_name(r.target)))
                .collect();
            (rt.name.clone(), routes)
        };
        let pair = |name: &str, route: &str| (name.to_string(), vec![route.to_string()]);
        assert_eq!(
            table_of("inspect-tgw-a"),
            pair("inspect-tgw-a-rt", "0.0.0.0/0 fw-a/eth0")
        );
        assert_eq!(
            table_of("inspect-tgw-b"),
            pair("inspect-tgw-b-rt", "0.0.0.0/0 fw-b/eth0")
        );
        assert_eq!(
            table_of("inspect-a"),
            pair("inspect-fw-rt", "10.0.0.0/8 tgw")
        );
        assert_eq!(
            table_of("inspect-b"),
            pair("inspect-fw-rt", "10.0.0.0/8 tgw")
        );
        assert_eq!(table_of("app1-b"), pair("app1-rt", "10.0.0.0/8 tgw"));
        assert_eq!(table_of("app2-a"), pair("app2-rt", "10.0.0.0/8 tgw"));
        for fw in ["fw-a", "fw-b"] {
            assert!(!t.eni(t.find_eni(fw).unwrap()).source_dest_check);
        }
        let zone = |eni: &str| {
            let e = t.eni(t.find_eni(eni).unwrap());
            (t.subnet(e.subnet).az.clone(), e.private_ip.to_string())
        };
        assert_eq!(zone("app1"), ("a".to_string(), "10.21.1.10".to_string()));
        assert_eq!(zone("app2"), ("b".to_string(), "10.22.2.10".to_string()));
    }
}
