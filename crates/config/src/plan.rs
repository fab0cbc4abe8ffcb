//! What applying one topology over another changes, resource by resource: [`plan`]
//! compares the tables [`crate::to_toml`] writes for the two topologies, e.g. a
//! configuration file against the state vpcd runs (its state file), before applying
//! it.
//!
//! A resource is identified by its kind (the name of its table in the file: `vpc`,
//! `subnet`, `route_table`, ..., and `limits` for `[limits]`) and its name (a security
//! group or network ACL by its name and its VPC, as AWS names them per VPC). It is
//! added (`+`) if only the new topology has it, removed (`-`) if only the old one has
//! it, changed (`~`) if its table differs, in any key: its own values or the names it
//! refers to. An address or an id that moved because another resource came or went
//! is not a change; a resource whose allocated address moved is. The resources the
//! parser creates by itself (a VPC's main route table, default security group and
//! network ACL, a transit gateway's default route table) are compared as if they were
//! written, so that a run-time change to one shows as a change. `[limits]` is always
//! there: it can only change.
//!
//! Order: the removals first, in the old topology's order, then the additions and
//! changes in the new topology's order; within a topology, kinds in the order
//! [`crate::to_toml`] writes them, resources of a kind in topology order.

use std::collections::HashMap;
use std::fmt;

use crate::topology::Topology;
use crate::write::{Table, tables};

/// What applying a topology over another changes ([`plan`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The changes, removals first (old order), then additions and changes (new
    /// order).
    pub changes: Vec<Change>,
}

/// One resource added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Added, removed or changed.
    pub action: Action,
    /// The resource's kind: its table's name in the file (`vpc`, `subnet`,
    /// `route_table`, `instance`, `security_group`, ..., `limits`).
    pub kind: &'static str,
    /// Its name; a security group's or network ACL's is `vpc/name` when another VPC
    /// of either topology has one of that name (every VPC has a `default`); empty for
    /// `limits`.
    pub name: String,
}

/// What happens to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Only the new topology has it (`+`).
    Add,
    /// Only the old topology has it (`-`).
    Remove,
    /// Both have it, with different tables (`~`).
    Change,
}

impl Plan {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Add => "+",
            Action::Remove => "-",
            Action::Change => "~",
        })
    }
}

impl fmt::Display for Change {
    /// `+ subnet private-c`, `~ security_group web-sg`, `~ limits`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action, self.kind)?;
        if !self.name.is_empty() {
            write!(f, " {}", self.name)?;
        }
        Ok(())
    }
}

impl fmt::Display for Plan {
    /// One line per change, each ending in a newline; nothing for an empty plan.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}

/// What applying `new` over `old` changes, resource by resource (see the module's
/// documentation for identity and order).
pub fn plan(old: &Topology, new: &Topology) -> Plan {
    let (old, new) = (tables(old), tables(new));
    let key = |t: &Table| (t.kind, t.vpc.clone(), t.name.clone());
    let old_by_key: HashMap<_, &Table> = old.iter().map(|t| (key(t), t)).collect();
    let new_by_key: HashMap<_, &Table> = new.iter().map(|t| (key(t), t)).collect();
    // Per kind, the names used in more than one VPC (security groups and NACLs).
    let mut vpcs_of: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    for t in old.iter().chain(&new) {
        if let Some(vpc) = &t.vpc {
            let vpcs = vpcs_of.entry((t.kind, &t.name)).or_default();
            if !vpcs.contains(&vpc.as_str()) {
                vpcs.push(vpc);
            }
        }
    }
    let name = |t: &Table| match &t.vpc {
        Some(vpc)
            if vpcs_of
                .get(&(t.kind, t.name.as_str()))
                .is_some_and(|v| v.len() > 1) =>
        {
            format!("{vpc}/{}", t.name)
        }
        _ => t.name.clone(),
    };
    let change = |action, t: &Table| Change {
        action,
        kind: t.kind,
        name: name(t),
    };
    let mut changes = Vec::new();
    for t in &old {
        if !new_by_key.contains_key(&key(t)) {
            changes.push(change(Action::Remove, t));
        }
    }
    for t in &new {
        match old_by_key.get(&key(t)) {
            None => changes.push(change(Action::Add, t)),
            Some(before) if before.text != t.text => changes.push(change(Action::Change, t)),
            Some(_) => {}
        }
    }
    Plan { changes }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Action, Change, plan};
    use crate::edit::tests::{fabric, topology};
    use crate::{DEMO_TOML, Topology, parse};

    fn demo_with(from: &str, to: &str) -> Topology {
        assert!(DEMO_TOML.contains(from), "{from}");
        parse(&DEMO_TOML.replacen(from, to, 1), "t.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    /// The plan's lines.
    fn lines(old: &Topology, new: &Topology) -> Vec<String> {
        plan(old, new)
            .changes
            .iter()
            .map(|c| c.to_string())
            .collect()
    }

    #[test]
    fn nothing_changes_between_a_topology_and_itself() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let t = crate::load(&path).unwrap_or_else(|e| panic!("{e}"));
                let p = plan(&t, &t);
                assert!(p.is_empty(), "{}: {p}", path.display());
                assert_eq!(p.to_string(), "");
                checked += 1;
            }
        }
        assert!(checked >= 11);
        for t in [Topology::demo(), topology(), fabric()] {
            assert!(plan(&t, &t).is_empty());
        }
    }

    #[test]
    fn one_rule_changed_changes_its_group_only() {
        let old = Topology::demo();
        let new = demo_with(
            "{ protocol = \"tcp\", port = 80, cidr = \"0.0.0.0/0\"",
            "{ protocol = \"tcp\", port = 8080, cidr = \"0.0.0.0/0\"",
        );
        let p = plan(&old, &new);
        assert_eq!(
            p.changes,
            [Change {
                action: Action::Change,
                kind: "security_group",
                name: "web-sg".into()
            }]
        );
        assert_eq!(p.to_string(), "~ security_group web-sg\n");
        // A description counts as a change of the rule.
        let described = demo_with(
            "description = \"ssh from the VPC\"",
            "description = \"ssh\"",
        );
        assert_eq!(lines(&old, &described), ["~ security_group web-sg"]);
    }

    #[test]
    fn tags_are_a_resource_of_their_own() {
        let old = Topology::demo();
        let mut new = old.clone();
        let tags = new
            .tags
            .entry("vpc-0a1b2c3d4e5f67890".to_owned())
            .or_default();
        tags.insert("env".to_owned(), "dev".to_owned());
        assert_eq!(lines(&old, &new), ["+ tags vpc-0a1b2c3d4e5f67890"]);
        let mut changed = new.clone();
        changed.tags.values_mut().for_each(|t| {
            t.insert("env".to_owned(), "prod".to_owned());
        });
        assert_eq!(lines(&new, &changed), ["~ tags vpc-0a1b2c3d4e5f67890"]);
        assert_eq!(lines(&new, &old), ["- tags vpc-0a1b2c3d4e5f67890"]);
        let mut attribute = old.clone();
        attribute.subnets[0].map_public_ip_on_launch = true;
        let name = attribute.subnets[0].name.clone();
        assert_eq!(lines(&old, &attribute), [format!("~ subnet {name}")]);
    }

    #[test]
    fn added_and_removed_resources() {
        let old = Topology::demo();
        let added = parse(
            &(DEMO_TOML.to_owned()
                + "\n[[subnet]]\nname = \"private-c\"\nvpc = \"demo\"\ncidr = \"10.0.22.0/24\"\naz = \"c\"\n\n[[instance]]\nname = \"cache\"\nsubnet = \"private-c\"\n"),
            "t.toml",
        )
        .unwrap();
        assert_eq!(
            lines(&old, &added),
            ["+ subnet private-c", "+ instance cache"]
        );
        assert_eq!(
            lines(&added, &old),
            ["- subnet private-c", "- instance cache"]
        );
        let without_db = demo_with(
            "[[instance]]\nname = \"db\"\nsubnet = \"private-b\"\nprivate_ip = \"10.0.12.10\"\nsecurity_groups = [\"db-sg\"]\n",
            "",
        );
        assert_eq!(lines(&old, &without_db), ["- instance db"]);
        // Removals first (old order), then additions and changes (new order).
        let both = parse(
            &(DEMO_TOML.replacen(
                "[[instance]]\nname = \"db\"\nsubnet = \"private-b\"\nprivate_ip = \"10.0.12.10\"\nsecurity_groups = [\"db-sg\"]\n",
                "",
                1,
            )
            .replacen("port = 5432", "port = 5433", 1)
                + "\n[[instance]]\nname = \"cache\"\nsubnet = \"private-a\"\n"),
            "t.toml",
        )
        .unwrap();
        assert_eq!(
            lines(&old, &both),
            [
                "- instance db",
                "+ instance cache",
                "~ security_group db-sg"
            ]
        );
    }

    #[test]
    fn an_allocated_address_that_moves_is_a_change_an_index_is_not() {
        let late = "\n[[instance]]\nname = \"late\"\nsubnet = \"private-a\"\n";
        let old = parse(&(DEMO_TOML.to_owned() + late), "t.toml").unwrap();
        // A new instance before the others, allocated first: every later index moves,
        // and so does the allocated address of `late` (10.0.2.4 to 10.0.2.5).
        let early = DEMO_TOML.replacen(
            "[[instance]]\nname = \"web\"",
            "[[instance]]\nname = \"early\"\nsubnet = \"private-a\"\n\n[[instance]]\nname = \"web\"",
            1,
        );
        let new = parse(&(early + late), "t.toml").unwrap();
        assert_eq!(lines(&old, &new), ["+ instance early", "~ instance late"]);
    }

    #[test]
    fn a_new_vpc_brings_its_implicit_resources() {
        let old = Topology::demo();
        let new = parse(
            &(DEMO_TOML.to_owned() + "\n[[vpc]]\nname = \"more\"\ncidr = \"10.5.0.0/16\"\n"),
            "t.toml",
        )
        .unwrap();
        // Every VPC has a `default` group and NACL: those of `more` are named by VPC.
        assert_eq!(
            lines(&old, &new),
            [
                "+ vpc more",
                "+ route_table more-main",
                "+ security_group more/default",
                "+ network_acl more/default"
            ]
        );
    }

    #[test]
    fn changes_at_run_time_are_changes_of_their_resources() {
        let old = topology();
        let mut new = old.clone();
        new.delete_nat_gateway("nat-a").unwrap();
        new.replace_local_route_target(
            "other-main",
            "10.10.0.0/16".parse().unwrap(),
            Some("stranger"),
        )
        .unwrap();
        new.allocate_address("198.51.100.77".parse().unwrap())
            .unwrap();
        new.release_address("198.51.100.30".parse().unwrap())
            .unwrap();
        assert_eq!(
            lines(&old, &new),
            [
                "- elastic_ip eip-198-51-100-30",
                "~ route_table other-main",
                "+ elastic_ip eip-198-51-100-77",
                "~ nat_gateway nat-a"
            ]
        );
        let old = fabric();
        let mut new = old.clone();
        new.disable_tgw_route_table_propagation("tgw-default", "att-a")
            .unwrap();
        new.create_tgw_route("tgw-default", "10.50.0.0/16".parse().unwrap(), None)
            .unwrap();
        assert_eq!(
            lines(&old, &new),
            [
                "~ transit_gateway_vpc_attachment att-a",
                "~ transit_gateway_route_table tgw-default"
            ]
        );
    }

    #[test]
    fn limits_are_one_resource_that_changes() {
        let old = Topology::demo();
        let mut new = old.clone();
        new.limits.fragments = 8;
        let p = plan(&old, &new);
        assert_eq!(p.to_string(), "~ limits\n");
        assert_eq!(p.changes[0].name, "");
        assert!(plan(&new, &new).is_empty());
    }
}
