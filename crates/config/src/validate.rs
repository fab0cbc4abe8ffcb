//! Raw configuration -> [`Topology`]: every semantic check, with AWS's rules.
//!
//! - VPC blocks /16../28, canonical, at most 5 per VPC, not overlapping each other. A
//!   VPC's `owner_id` is an account ID (12 digits) and its `region` looks like a region
//!   name (see [`crate::account`]); omitted, they are the defaults.
//! - Subnet blocks /16../28, canonical, inside one of the VPC's blocks, not overlapping
//!   another subnet of the VPC.
//! - Route tables: one main table per VPC (an implicit one named `<vpc>-main` if none
//!   is declared; no declared table may take that name), each subnet explicitly
//!   associated with at most one table of its own VPC. Every table
//!   gets one `local` route per VPC block first. Routes (see [`routes`]): a route whose
//!   destination is a VPC block replaces that local route's target, and only a network
//!   interface may; a route may be more specific than a local route only for a whole
//!   subnet's CIDR with a network interface or NAT gateway target (middlebox routing);
//!   no destination lies in 169.254.168.0/22 (the VPC's own services). Destinations
//!   are unique per table. A route's target is in the table's VPC; an internet gateway
//!   target is attached to it.
//! - Gateway route tables (edge associations, see [`routes`]): a table's `gateways`
//!   are internet gateways attached to its VPC, each associated with one table at most;
//!   such a table's routes are all inside the VPC's blocks and target network
//!   interfaces.
//! - Instances: eth0 from the instance's own keys, eth1.. from `[[instance.eni]]`, all in
//!   one availability zone. A private IP lies in its subnet, is not one of the five
//!   reserved addresses, and is unique in the VPC (NAT gateways' addresses included); a
//!   missing one is allocated as the first free assignable address of the subnet, after
//!   every written one (of interfaces, then of NAT gateways) is claimed; interfaces are
//!   allocated first, then NAT gateways, then transit gateway VPC attachments (one
//!   address per listed subnet), each in file order.
//! - VPC peering connections: see [`peering`].
//! - Transit gateways, their attachments and resource shares: see [`transit`]; their
//!   route tables: see [`tgw_tables`]; multicast domains: see [`multicast`].
//! - Security groups, network ACLs, interfaces' groups and connection-tracking
//!   timeouts, flow logs: see [`security`].
//! - Internet gateways, Elastic IPs, NAT gateways, public IPs and internet hosts: see
//!   [`gateways`].
//! - Table limits (`[limits]`): each 1 to its maximum, the dataplane's defaults when
//!   omitted: see [`limits`].
//!
//! Checks go on after a problem so that one run reports everything it can; checks that
//! depend on a broken item are skipped instead of cascading.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use toml::Spanned;

use crate::account::{self, DEFAULT_ACCOUNT, DEFAULT_REGION};
use crate::addressing;
use crate::error::{Problem, Reporter};
use crate::raw::{RawConfig, RawConntrack};
use crate::security::*;
use crate::topology::*;

/// For the validation tests whose snippets are appended to a module's `BASE` text of
/// `BASE_LINES` lines: `errors(extra)` (the rendered diagnostics of an invalid
/// configuration), `ok(extra)` (a valid one) and `at(l, c)` (`t.toml:L:C: ` for line `l`
/// of the snippet, 1-based).
#[cfg(test)]
macro_rules! snippet_helpers {
    () => {
        fn errors(extra: &str) -> Vec<String> {
            match $crate::parse(&format!("{BASE}{extra}"), "t.toml") {
                Ok(t) => panic!("expected errors, got {t:?}"),
                Err($crate::ConfigError::Invalid(d)) => d.iter().map(|d| d.to_string()).collect(),
                Err(e) => panic!("unexpected error {e}"),
            }
        }

        fn ok(extra: &str) -> $crate::Topology {
            $crate::parse(&format!("{BASE}{extra}"), "t.toml")
                .unwrap_or_else(|e| panic!("expected valid config, got:\n{e}"))
        }

        fn at(l: usize, c: usize) -> String {
            format!("t.toml:{}:{c}: ", BASE_LINES + l)
        }
    };
}

mod dns;
mod endpoints;
mod gateways;
mod launch;
mod limits;
mod metadata;
mod multicast;
mod peering;
mod routes;
pub(crate) mod security;
mod tgw_tables;
mod transit;
mod vpn;

/// AWS's size range for VPC and subnet blocks.
const MIN_PREFIX: u8 = 16;
const MAX_PREFIX: u8 = 28;
/// AWS's default quota of IPv4 blocks per VPC, primary included.
const MAX_VPC_CIDRS: usize = 5;
/// Interfaces per instance the daemon creates (eth0..eth7).
pub const MAX_ENIS_PER_INSTANCE: usize = 8;

/// Special-purpose ranges that cannot hold a VPC (their addresses are martians).
const UNUSABLE: [(Ipv4Net, &str); 5] = [
    (
        Ipv4Net::new_assert(Ipv4Addr::new(0, 0, 0, 0), 8),
        "\"this network\", RFC 791",
    ),
    (
        Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8),
        "loopback",
    ),
    (
        Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16),
        "link-local",
    ),
    (
        Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 4),
        "multicast",
    ),
    (
        Ipv4Net::new_assert(Ipv4Addr::new(240, 0, 0, 0), 4),
        "reserved, RFC 1112",
    ),
];

pub(crate) fn validate(raw: &RawConfig, r: &mut Reporter<'_>) -> Option<Topology> {
    // Route tables are not referenced by name yet; their names are still checked.
    names(r, "route_table", raw.route_table.iter().map(|t| &t.name));
    let mut c = Checker {
        vpc_names: names(r, "vpc", raw.vpc.iter().map(|v| &v.name)),
        subnet_names: names(r, "subnet", raw.subnet.iter().map(|s| &s.name)),
        instance_names: names(r, "instance", raw.instance.iter().map(|i| &i.name)),
        raw,
        r,
        vpc_cidrs: Vec::new(),
        vpc_accounts: Vec::new(),
        subnets: Vec::new(),
        table_vpcs: Vec::new(),
        main_of: HashMap::new(),
        association: HashMap::new(),
        enis: Vec::new(),
        routes: Vec::new(),
        table_gateways: Vec::new(),
        gateway_tables: HashMap::new(),
        sg_vpcs: Vec::new(),
        sg_ids: HashMap::new(),
        default_sgs: Vec::new(),
        sg_rules: Vec::new(),
        nacl_vpcs: Vec::new(),
        default_nacls: Vec::new(),
        nacl_rules: Vec::new(),
        nacl_association: HashMap::new(),
        flow_logs: Vec::new(),
        gw: gateways::Gateways::default(),
        pcx_names: HashMap::new(),
        peerings: Vec::new(),
        tr: transit::Transit::default(),
        limits: TableLimits::default(),
        launches: Vec::new(),
        terminated: None,
        tags: Tags::new(),
        dns: dns::Dns::default(),
        ep: endpoints::Pending::default(),
        vpn: vpn::Vpn::default(),
    };
    c.vpcs();
    c.aws_services();
    c.subnets();
    c.peering_connections();
    c.transit_gateways();
    c.route_tables();
    c.instances();
    c.launches();
    c.vpn_gateways();
    c.gateways();
    c.gateway_associations();
    c.addresses();
    c.propagations();
    c.routes();
    c.security_groups();
    c.network_acls();
    c.interface_security();
    c.flow_logs();
    c.tgw_route_tables();
    c.multicast_domains();
    c.vpc_endpoints();
    c.table_limits();
    c.tags();
    c.dns();
    c.build()
}

/// The state of one validation run; each method checks one kind of resource and
/// records what later checks rely on. `None` entries mark broken resources.
struct Checker<'c, 'a, 's> {
    raw: &'a RawConfig,
    r: &'c mut Reporter<'s>,
    vpc_names: HashMap<&'a str, usize>,
    subnet_names: HashMap<&'a str, usize>,
    instance_names: HashMap<&'a str, usize>,
    /// Per VPC: its blocks, primary first (`None`: the primary block is broken).
    vpc_cidrs: Vec<Option<Vec<Ipv4Net>>>,
    /// Per VPC: its owner and region (`None`: either is broken).
    vpc_accounts: Vec<Option<(&'a str, &'a str)>>,
    /// Per subnet: its VPC and block.
    subnets: Vec<Option<(VpcId, Ipv4Net)>>,
    /// Per declared route table: its VPC.
    table_vpcs: Vec<Option<VpcId>>,
    /// VPC -> index of its declared main route table.
    main_of: HashMap<VpcId, usize>,
    /// Subnet index -> index of the declared table it is explicitly associated with.
    association: HashMap<usize, usize>,
    /// Every interface of every instance, in instance order.
    enis: Vec<PendingEni<'a>>,
    /// Per declared route table: its configured routes, in the order written; those
    /// that replace a local route's target have origin `Local`.
    routes: Vec<Vec<Route>>,
    /// Per declared route table: its valid edge associations, in the order written.
    table_gateways: Vec<Vec<InternetGatewayId>>,
    /// Internet gateway -> index of the declared table it is edge-associated with.
    gateway_tables: HashMap<InternetGatewayId, usize>,
    /// Per declared security group: its VPC.
    sg_vpcs: Vec<Option<VpcId>>,
    /// (VPC, name) -> security group, the implicit default groups included.
    sg_ids: HashMap<(VpcId, &'a str), SecurityGroupId>,
    /// Per VPC: its default security group (declared, or implicit after the declared).
    default_sgs: Vec<SecurityGroupId>,
    /// Per declared security group: its ingress and egress rules.
    sg_rules: Vec<(Vec<SgRule>, Vec<SgRule>)>,
    /// Per declared network ACL: its VPC.
    nacl_vpcs: Vec<Option<VpcId>>,
    /// Per VPC: its default network ACL (declared, or implicit after the declared).
    default_nacls: Vec<NetworkAclId>,
    /// Per declared network ACL: its ingress and egress rules, sorted by number.
    nacl_rules: Vec<(Vec<NaclRule>, Vec<NaclRule>)>,
    /// Subnet index -> index of the declared NACL it is explicitly associated with.
    nacl_association: HashMap<usize, usize>,
    /// Per declared flow log: the checked flow log.
    flow_logs: Vec<Option<FlowLog>>,
    /// Internet and NAT gateways, Elastic IPs and internet hosts.
    gw: gateways::Gateways<'a>,
    /// VPC peering connection name -> index.
    pcx_names: HashMap<&'a str, usize>,
    /// Per VPC peering connection, in file order.
    peerings: Vec<peering::PendingPeering>,
    /// Transit gateways, their attachments, route tables and multicast domains, and
    /// resource shares.
    tr: transit::Transit<'a>,
    /// The checked `[limits]` (defaults for what is omitted or broken).
    limits: TableLimits,
    /// Per instance: its checked launch keys.
    launches: Vec<Launch>,
    /// The checked `[[terminated_instance]]`s (`None`: one is broken).
    terminated: Option<Vec<TerminatedInstance>>,
    /// The checked `[tags]`.
    tags: Tags,
    /// DHCP option sets, private hosted zones, VPCs' option sets.
    dns: dns::Dns,
    /// The checked AWS services and VPC endpoints.
    ep: endpoints::Pending,
    /// The checked VPN and customer gateways and tables' `propagating_vgws`.
    vpn: vpn::Vpn<'a>,
}

/// Who holds a private address: an interface, a NAT gateway or a transit gateway VPC
/// attachment (by index).
#[derive(Clone, Copy)]
enum Holder {
    Eni(usize),
    Nat(usize),
    Tgw(usize),
}

/// What subnets are explicitly associated with.
#[derive(Clone, Copy)]
enum Associated {
    RouteTable,
    NetworkAcl,
}

/// An interface while its address is being checked or allocated.
struct PendingEni<'a> {
    instance: usize,
    device_index: u8,
    /// `None` when the subnet reference or the written address is broken.
    subnet: Option<SubnetId>,
    /// The written address, if any, with its span and field path.
    written: Option<(&'a Spanned<String>, String)>,
    /// The subnet reference, with its field path (for "subnet full").
    subnet_ref: (&'a Spanned<String>, String),
    ip: Option<Ipv4Addr>,
    source_dest_check: bool,
    /// The field path of the interface's keys: `instance[i]` or `instance[i].eni[j]`.
    prefix: String,
    /// The written `security_groups`.
    groups_ref: Option<&'a Spanned<Vec<Spanned<String>>>>,
    /// The written `connection_tracking`.
    conntrack_ref: Option<&'a RawConntrack>,
    /// The written `public_ip`, with its field path.
    public_ref: Option<(&'a Spanned<String>, String)>,
    /// The checked `public_ip`.
    public_ip: Option<Ipv4Addr>,
    /// The resolved security groups (empty until `interface_security`).
    security_groups: Vec<SecurityGroupId>,
    /// The checked timeouts.
    conntrack: ConntrackTimeouts,
}

impl<'a> Checker<'_, 'a, '_> {
    fn vpcs(&mut self) {
        for (i, vpc) in self.raw.vpc.iter().enumerate() {
            let primary = vpc_block(self.r, &vpc.cidr, format!("vpc[{i}].cidr"));
            let mut cidrs: Vec<Ipv4Net> = primary.into_iter().collect();
            for (j, c) in vpc.secondary_cidrs.iter().enumerate() {
                let field = format!("vpc[{i}].secondary_cidrs[{j}]");
                let Some(net) = vpc_block(self.r, c, field.clone()) else {
                    continue;
                };
                match cidrs.iter().find(|o| overlaps(**o, net)) {
                    Some(&other) => {
                        let problem = Problem::VpcCidrOverlap { cidr: net, other };
                        self.r.report(c.span(), field, problem);
                    }
                    None => cidrs.push(net),
                }
            }
            let count = 1 + vpc.secondary_cidrs.len();
            if count > MAX_VPC_CIDRS {
                let problem = Problem::TooManyVpcCidrs { count };
                self.r.report(vpc.name.span(), format!("vpc[{i}]"), problem);
            }
            self.vpc_cidrs.push(primary.map(|_| cidrs));
            let owner = account(self.r, vpc.owner_id.as_ref(), format!("vpc[{i}].owner_id"));
            let region = region(self.r, vpc.region.as_ref(), format!("vpc[{i}].region"));
            self.vpc_accounts.push(owner.zip(region));
        }
    }

    /// `[tags]`: keys 1 to 128 characters not starting with `aws:`, values at most
    /// 256, at most 50 per resource (AWS's tag rules).
    fn tags(&mut self) {
        for (id, tags) in &self.raw.tags {
            let field = format!("tags.{:?}", id.get_ref());
            if id.get_ref().is_empty() {
                self.r
                    .report(id.span(), field.clone(), Problem::EmptyTagResource);
            }
            if tags.len() > MAX_TAGS_PER_RESOURCE {
                let problem = Problem::TooManyTags { count: tags.len() };
                self.r.report(id.span(), field.clone(), problem);
            }
            let mut checked = std::collections::BTreeMap::new();
            for (key, value) in tags {
                let field = format!("{field}.{:?}", key.get_ref());
                let k = key.get_ref();
                if k.is_empty() || k.chars().count() > MAX_TAG_KEY_LEN {
                    self.r
                        .report(key.span(), field.clone(), Problem::BadTagKey(k.clone()));
                } else if k.to_ascii_lowercase().starts_with("aws:") {
                    self.r.report(
                        key.span(),
                        field.clone(),
                        Problem::ReservedTagKey(k.clone()),
                    );
                }
                if value.get_ref().chars().count() > MAX_TAG_VALUE_LEN {
                    let problem = Problem::TagValueTooLong {
                        length: value.get_ref().chars().count(),
                    };
                    self.r.report(value.span(), field, problem);
                }
                checked.insert(k.clone(), value.get_ref().clone());
            }
            if !checked.is_empty() {
                self.tags.insert(id.get_ref().clone(), checked);
            }
        }
    }

    fn subnets(&mut self) {
        for (i, s) in self.raw.subnet.iter().enumerate() {
            let checked = self.subnet(i);
            self.subnets.push(checked);
            if s.az.get_ref().trim().is_empty() {
                self.r
                    .report(s.az.span(), format!("subnet[{i}].az"), Problem::EmptyAz);
            }
        }
    }

    fn subnet(&mut self, i: usize) -> Option<(VpcId, Ipv4Net)> {
        let s = &self.raw.subnet[i];
        let field = format!("subnet[{i}].vpc");
        let vpc: Option<VpcId> =
            lookup(self.r, &self.vpc_names, &s.vpc, field, Problem::UnknownVpc);
        let field = format!("subnet[{i}].cidr");
        let cidr = parse_cidr(self.r, &s.cidr, field.clone())?;
        if !in_size_range(self.r, cidr, &s.cidr, &field) {
            return None;
        }
        let vpc = vpc?;
        let blocks = self.vpc_cidrs[vpc.index()].as_ref()?;
        if !blocks.iter().any(|b| b.contains(&cidr)) {
            let vpc_cidrs = addressing::cidr_list(blocks);
            let vpc = self.raw.vpc[vpc.index()].name.get_ref().clone();
            let problem = Problem::SubnetOutsideVpc {
                cidr,
                vpc,
                vpc_cidrs,
            };
            self.r.report(s.cidr.span(), field, problem);
            return None;
        }
        let clash = self
            .subnets
            .iter()
            .enumerate()
            .find_map(|(j, other)| match other {
                Some((v, o)) if *v == vpc && overlaps(*o, cidr) => Some((j, *o)),
                _ => None,
            });
        if let Some((j, other_cidr)) = clash {
            let other = self.raw.subnet[j].name.get_ref().clone();
            let problem = Problem::SubnetOverlap {
                cidr,
                other,
                other_cidr,
            };
            self.r.report(s.cidr.span(), field, problem);
            return None;
        }
        Some((vpc, cidr))
    }

    /// Main flags and explicit subnet associations.
    fn route_tables(&mut self) {
        for (i, t) in self.raw.route_table.iter().enumerate() {
            let field = format!("route_table[{i}].vpc");
            let vpc: Option<VpcId> =
                lookup(self.r, &self.vpc_names, &t.vpc, field, Problem::UnknownVpc);
            self.table_vpcs.push(vpc);
            let Some(vpc) = vpc else { continue };
            if let Some(main) = t.main.as_ref().filter(|m| *m.get_ref()) {
                match self.main_of.get(&vpc) {
                    Some(&other) => {
                        let problem = Problem::SecondMainTable {
                            vpc: t.vpc.get_ref().clone(),
                            other: self.raw.route_table[other].name.get_ref().clone(),
                        };
                        self.r
                            .report(main.span(), format!("route_table[{i}].main"), problem);
                    }
                    None => {
                        self.main_of.insert(vpc, i);
                    }
                }
            }
            for (j, s) in t.subnets.iter().enumerate() {
                let field = format!("route_table[{i}].subnets[{j}]");
                self.associate(Associated::RouteTable, i, Some(vpc), s, field);
            }
        }
        // The implicit main tables' names are not the declared tables'.
        for (v, vpc) in self.raw.vpc.iter().enumerate() {
            if self.main_of.contains_key(&VpcId(v as u32)) {
                continue;
            }
            let name = format!("{}-main", vpc.name.get_ref());
            let taken = self.raw.route_table.iter().enumerate();
            for (i, t) in taken.filter(|(_, t)| *t.name.get_ref() == name) {
                let problem = Problem::ImplicitMainTableNameTaken {
                    name: name.clone(),
                    vpc: vpc.name.get_ref().clone(),
                };
                let field = format!("route_table[{i}].name");
                self.r.report(t.name.span(), field, problem);
            }
        }
    }

    /// Checks the explicit association of subnet reference `s` (at `field`) with the
    /// declared resource `i` of `kind`, whose VPC is `owner_vpc` (`None`: broken, so
    /// only the reference is checked): the subnet must be in that VPC and not yet
    /// associated with another resource of that kind. Records the association in the
    /// map of `kind`, or reports the problem.
    fn associate(
        &mut self,
        kind: Associated,
        i: usize,
        owner_vpc: Option<VpcId>,
        s: &Spanned<String>,
        field: String,
    ) {
        let sub: Option<SubnetId> = lookup(
            self.r,
            &self.subnet_names,
            s,
            field.clone(),
            Problem::UnknownSubnet,
        );
        let (Some(sub), Some(owner_vpc)) = (sub, owner_vpc) else {
            return;
        };
        let Some((subnet_vpc, _)) = self.subnets[sub.index()] else {
            return;
        };
        let raw = self.raw;
        let (what, map) = match kind {
            Associated::RouteTable => ("route table", &mut self.association),
            Associated::NetworkAcl => ("network ACL", &mut self.nacl_association),
        };
        let vpc_name = |v: VpcId| raw.vpc[v.index()].name.get_ref().clone();
        let problem = if subnet_vpc != owner_vpc {
            Problem::AssociationAcrossVpcs {
                kind: what,
                subnet: s.get_ref().clone(),
                subnet_vpc: vpc_name(subnet_vpc),
                owner_vpc: vpc_name(owner_vpc),
            }
        } else if let Some(&other) = map.get(&sub.index()) {
            let other = match kind {
                Associated::RouteTable => &raw.route_table[other].name,
                Associated::NetworkAcl => &raw.network_acl[other].name,
            };
            Problem::DoubleAssociation {
                kind: what,
                subnet: s.get_ref().clone(),
                other: other.get_ref().clone(),
            }
        } else {
            map.insert(sub.index(), i);
            return;
        };
        self.r.report(s.span(), field, problem);
    }

    /// Interface count, subnets and availability zones; parses written addresses.
    fn instances(&mut self) {
        for (i, inst) in self.raw.instance.iter().enumerate() {
            let count = 1 + inst.eni.len();
            if count > MAX_ENIS_PER_INSTANCE {
                let problem = Problem::TooManyEnis {
                    count,
                    max: MAX_ENIS_PER_INSTANCE,
                };
                self.r
                    .report(inst.name.span(), format!("instance[{i}]"), problem);
                continue;
            }
            let primary = (
                &inst.subnet,
                &inst.private_ip,
                inst.source_dest_check,
                format!("instance[{i}]"),
                (
                    inst.security_groups.as_ref(),
                    inst.connection_tracking.as_ref(),
                    inst.public_ip.as_ref(),
                ),
            );
            let secondary = inst.eni.iter().enumerate().map(|(j, e)| {
                let e = e.get_ref();
                let prefix = format!("instance[{i}].eni[{j}]");
                let security = (
                    e.security_groups.as_ref(),
                    e.connection_tracking.as_ref(),
                    e.public_ip.as_ref(),
                );
                (
                    &e.subnet,
                    &e.private_ip,
                    e.source_dest_check,
                    prefix,
                    security,
                )
            });
            let mut primary_az: Option<&str> = None;
            for (d, (subnet, ip, sdc, prefix, (groups_ref, conntrack_ref, public))) in
                std::iter::once(primary).chain(secondary).enumerate()
            {
                let field = format!("{prefix}.subnet");
                let sub: Option<SubnetId> = lookup(
                    self.r,
                    &self.subnet_names,
                    subnet,
                    field.clone(),
                    Problem::UnknownSubnet,
                );
                let sub = sub.filter(|s| self.subnets[s.index()].is_some());
                if let Some(s) = sub {
                    let az = self.raw.subnet[s.index()].az.get_ref().as_str();
                    match primary_az {
                        None => primary_az = Some(az),
                        Some(p) if p != az => {
                            let problem = Problem::EniInOtherAz {
                                subnet: subnet.get_ref().clone(),
                                az: az.to_owned(),
                                primary_az: p.to_owned(),
                            };
                            self.r.report(subnet.span(), field.clone(), problem);
                        }
                        Some(_) => {}
                    }
                }
                let public_ref = public.map(|p| (p, format!("{prefix}.public_ip")));
                self.enis.push(PendingEni {
                    instance: i,
                    device_index: d as u8,
                    subnet: sub,
                    written: ip.as_ref().map(|ip| (ip, format!("{prefix}.private_ip"))),
                    subnet_ref: (subnet, field),
                    ip: None,
                    source_dest_check: sdc.unwrap_or(true),
                    prefix,
                    groups_ref,
                    conntrack_ref,
                    public_ref,
                    public_ip: None,
                    security_groups: Vec::new(),
                    conntrack: ConntrackTimeouts::default(),
                });
            }
        }
    }

    /// Written addresses first (in the subnet, not reserved, unique in the VPC, NAT
    /// gateways' included), then allocations in file order: interfaces first, then NAT
    /// gateways, then the interfaces of transit gateway VPC attachments (one per
    /// subnet, in the order written).
    fn addresses(&mut self) {
        let mut taken: HashMap<(VpcId, Ipv4Addr), Holder> = HashMap::new();
        for k in 0..self.enis.len() {
            let e = &self.enis[k];
            let (Some(sub), Some((text, field))) = (e.subnet, e.written.clone()) else {
                continue;
            };
            self.enis[k].ip = self.claim(&mut taken, sub, text, field, Holder::Eni(k));
        }
        for n in 0..self.gw.nats.len() {
            let Some(sub) = self.gw.nats[n].subnet else {
                continue;
            };
            for (text, field) in self.gw.nats[n].written.clone() {
                let ip = self.claim(&mut taken, sub, text, field, Holder::Nat(n));
                self.gw.nats[n].ips.push(ip);
            }
        }
        for k in 0..self.enis.len() {
            let e = &self.enis[k];
            let Some(sub) = e.subnet.filter(|_| e.written.is_none()) else {
                continue;
            };
            match self.allocate(&mut taken, sub, Holder::Eni(k)) {
                Some(ip) => self.enis[k].ip = Some(ip),
                None => {
                    let (reference, field) = self.enis[k].subnet_ref.clone();
                    self.subnet_full(sub, reference, field);
                }
            }
        }
        for n in 0..self.gw.nats.len() {
            let Some(sub) = self.gw.nats[n].subnet else {
                continue;
            };
            for _ in 0..self.gw.nats[n].allocate {
                let ip = self.allocate(&mut taken, sub, Holder::Nat(n));
                self.gw.nats[n].ips.push(ip);
                if ip.is_none() {
                    let reference = &self.raw.nat_gateway[n].subnet;
                    self.subnet_full(sub, reference, format!("nat_gateway[{n}].subnet"));
                    break;
                }
            }
        }
        for a in 0..self.tr.atts.len() {
            let transit::PendingKind::Vpc { subnets, .. } = &self.tr.atts[a].kind else {
                continue;
            };
            for (sub, reference, field) in subnets.clone() {
                let ip = self.allocate(&mut taken, sub, Holder::Tgw(a));
                if ip.is_none() {
                    self.subnet_full(sub, reference, field);
                }
                if let transit::PendingKind::Vpc { ips, .. } = &mut self.tr.atts[a].kind {
                    ips.push(ip);
                }
            }
        }
    }

    /// Checks a written private address of `holder` in subnet `sub` and claims it.
    fn claim(
        &mut self,
        taken: &mut HashMap<(VpcId, Ipv4Addr), Holder>,
        sub: SubnetId,
        text: &Spanned<String>,
        field: String,
        holder: Holder,
    ) -> Option<Ipv4Addr> {
        let (vpc, cidr) = self.subnets[sub.index()]?;
        let subnet = self.raw.subnet[sub.index()].name.get_ref().clone();
        let problem = match text.get_ref().parse::<Ipv4Addr>() {
            Err(_) => Problem::BadAddress(text.get_ref().clone()),
            Ok(ip) if !cidr.contains(&ip) => Problem::AddressOutsideSubnet { ip, subnet, cidr },
            Ok(ip) => match (addressing::reserved(cidr, ip), taken.get(&(vpc, ip))) {
                (Some(what), _) => Problem::ReservedAddress {
                    ip,
                    what: what.describe(),
                    subnet,
                    cidr,
                },
                (None, Some(&owner)) => Problem::AddressInUse {
                    ip,
                    owner: self.holder_name(owner),
                },
                (None, None) => {
                    taken.insert((vpc, ip), holder);
                    return Some(ip);
                }
            },
        };
        self.r.report(text.span(), field, problem);
        None
    }

    /// The first free assignable address of subnet `sub`, claimed for `holder`.
    fn allocate(
        &mut self,
        taken: &mut HashMap<(VpcId, Ipv4Addr), Holder>,
        sub: SubnetId,
        holder: Holder,
    ) -> Option<Ipv4Addr> {
        let (vpc, cidr) = self.subnets[sub.index()]?;
        let ip = addressing::usable(cidr).find(|a| !taken.contains_key(&(vpc, *a)))?;
        taken.insert((vpc, ip), holder);
        Some(ip)
    }

    fn subnet_full(&mut self, sub: SubnetId, reference: &Spanned<String>, field: String) {
        let Some((_, cidr)) = self.subnets[sub.index()] else {
            return;
        };
        let subnet = self.raw.subnet[sub.index()].name.get_ref().clone();
        self.r.report(
            reference.span(),
            field,
            Problem::SubnetFull { subnet, cidr },
        );
    }

    fn holder_name(&self, holder: Holder) -> String {
        match holder {
            Holder::Eni(k) => self.eni_name(k),
            Holder::Nat(n) => format!("nat_gateway {:?}", self.raw.nat_gateway[n].name.get_ref()),
            Holder::Tgw(a) => format!(
                "transit_gateway_vpc_attachment {:?}",
                self.raw.transit_gateway_vpc_attachment[a].name.get_ref()
            ),
        }
    }

    fn eni_name(&self, k: usize) -> String {
        let e = &self.enis[k];
        format!(
            "{}/{}",
            self.raw.instance[e.instance].name.get_ref(),
            DeviceName(e.device_index)
        )
    }

    /// The instance `reference` names (reported at `field` if there is none).
    pub(crate) fn instance_ref(
        &mut self,
        reference: &Spanned<String>,
        field: &str,
    ) -> Option<InstanceId> {
        lookup(
            self.r,
            &self.instance_names,
            reference,
            field.to_owned(),
            Problem::UnknownInstance,
        )
    }

    /// A `network_interface` target written `instance/ethN`.
    fn interface_target(&mut self, reference: &Spanned<String>, field: &str) -> Option<usize> {
        let text = reference.get_ref();
        let found = text.split_once("/eth").and_then(|(inst, dev)| {
            let inst = *self.instance_names.get(inst)?;
            let dev: u8 = dev.parse().ok()?;
            self.enis
                .iter()
                .position(|e| e.instance == inst && e.device_index == dev)
        });
        if found.is_none() {
            let problem = Problem::UnknownNetworkInterface(text.clone());
            self.r.report(reference.span(), field, problem);
        }
        found
    }

    /// Assembles the topology if nothing was reported.
    fn build(self) -> Option<Topology> {
        if !self.r.diagnostics.is_empty() {
            return None;
        }
        let raw = self.raw;
        let mut route_tables: Vec<RouteTable> = Vec::new();
        let mut vpcs: Vec<Vpc> = Vec::new();
        for (i, t) in raw.route_table.iter().enumerate() {
            let vpc = self.table_vpcs[i]?;
            route_tables.push(RouteTable {
                name: t.name.get_ref().clone(),
                vpc,
                main: self.main_of.get(&vpc) == Some(&i),
                routes: self.routes[i].clone(),
                gateways: self.table_gateways[i].clone(),
                propagating_vgws: self.vpn.table_vgws[i].clone(),
            });
        }
        for (i, v) in raw.vpc.iter().enumerate() {
            let vpc = VpcId(i as u32);
            let cidrs = self.vpc_cidrs[i].clone()?;
            let main = match self.main_of.get(&vpc) {
                Some(&t) => RouteTableId(t as u32),
                None => {
                    route_tables.push(RouteTable {
                        name: format!("{}-main", v.name.get_ref()),
                        vpc,
                        main: true,
                        routes: Vec::new(),
                        gateways: Vec::new(),
                        propagating_vgws: Vec::new(),
                    });
                    RouteTableId(route_tables.len() as u32 - 1)
                }
            };
            let (owner_id, region) = self.vpc_accounts[i]?;
            vpcs.push(Vpc {
                name: v.name.get_ref().clone(),
                cidrs,
                main_route_table: main,
                default_security_group: self.default_sgs[i],
                default_network_acl: self.default_nacls[i],
                owner_id: owner_id.to_owned(),
                region: region.to_owned(),
                enable_dns_support: v.enable_dns_support.unwrap_or(true),
                enable_dns_hostnames: v.enable_dns_hostnames.unwrap_or(false),
                enable_network_address_usage_metrics: v
                    .enable_network_address_usage_metrics
                    .unwrap_or(false),
                dhcp_options: self.dns.vpc_options.get(i).copied().flatten(),
            });
        }
        for t in &mut route_tables {
            // One local route per VPC block, with the target a configured route
            // replaced it with, if any; the configured routes after them.
            let local: Vec<Route> = vpcs[t.vpc.index()]
                .cidrs
                .iter()
                .map(|&destination| {
                    let replaced = t
                        .routes
                        .iter()
                        .find(|r| r.origin == RouteOrigin::Local && r.destination == destination);
                    Route {
                        destination,
                        target: replaced.map_or(RouteTarget::Local, |r| r.target),
                        origin: RouteOrigin::Local,
                    }
                })
                .collect();
            t.routes.retain(|r| r.origin == RouteOrigin::Static);
            t.routes.splice(0..0, local);
        }
        let mut subnets = Vec::new();
        for (i, s) in raw.subnet.iter().enumerate() {
            let (vpc, cidr) = self.subnets[i]?;
            let explicit = self.association.get(&i).map(|&t| RouteTableId(t as u32));
            subnets.push(Subnet {
                name: s.name.get_ref().clone(),
                vpc,
                cidr,
                az: s.az.get_ref().clone(),
                route_table: explicit.unwrap_or(vpcs[vpc.index()].main_route_table),
                explicit_association: explicit.is_some(),
                network_acl: match self.nacl_association.get(&i) {
                    Some(&n) => NetworkAclId(n as u32),
                    None => vpcs[vpc.index()].default_network_acl,
                },
                map_public_ip_on_launch: s.map_public_ip_on_launch.unwrap_or(false),
            });
        }
        let mut instances: Vec<Instance> = raw
            .instance
            .iter()
            .zip(&self.launches)
            .map(|(i, launch)| Instance {
                name: i.name.get_ref().clone(),
                enis: Vec::new(),
                launch: launch.clone(),
            })
            .collect();
        let mut enis = Vec::new();
        for (k, e) in self.enis.iter().enumerate() {
            instances[e.instance].enis.push(EniId(k as u32));
            enis.push(Eni {
                instance: InstanceId(e.instance as u32),
                device_index: e.device_index,
                subnet: e.subnet?,
                private_ip: e.ip?,
                source_dest_check: e.source_dest_check,
                security_groups: e.security_groups.clone(),
                conntrack: e.conntrack,
                public_ip: e.public_ip,
            });
        }
        let security_groups = self.build_security_groups()?;
        let gateways::Built {
            internet_gateways,
            nat_gateways,
            elastic_ips,
            internet_hosts,
        } = self.build_gateways()?;
        let network_acls = self.build_network_acls()?;
        let flow_logs = self.flow_logs.iter().cloned().collect::<Option<Vec<_>>>()?;
        let vpc_peering_connections = self.build_peerings()?;
        let transit::BuiltTransit {
            mut transit_gateways,
            tgw_attachments,
            resource_shares,
        } = self.build_transit()?;
        let tgw_route_tables = self.build_tgw_tables(&mut transit_gateways, &tgw_attachments)?;
        let multicast_domains = self.build_multicast_domains()?;
        let (vpn_gateways, customer_gateways, vpn_connections) = self.build_vpn()?;
        let mut t = Topology {
            vpcs,
            subnets,
            route_tables,
            instances,
            enis,
            security_groups,
            network_acls,
            flow_logs,
            internet_gateways,
            nat_gateways,
            elastic_ips,
            internet_hosts,
            limits: self.limits,
            vpc_peering_connections,
            transit_gateways,
            tgw_attachments,
            tgw_route_tables,
            multicast_domains,
            resource_shares,
            terminated_instances: self.terminated.clone()?,
            tags: self.tags,
            dhcp_options: self.dns.options,
            private_hosted_zones: self.dns.zones,
            aws_services: self.ep.services?,
            vpc_endpoints: self.ep.endpoints?,
            vpn_gateways,
            customer_gateways,
            vpn_connections,
        };
        if !t.assign_outside_addresses() {
            return None;
        }
        t.derive_vpn_hosts();
        Some(t)
    }
}

/// Checks names of one kind for validity and uniqueness; maps each name to the index
/// of its first use.
fn names<'a>(
    r: &mut Reporter<'_>,
    kind: &'static str,
    items: impl Iterator<Item = &'a Spanned<String>>,
) -> HashMap<&'a str, usize> {
    let mut map = HashMap::new();
    for (i, name) in items.enumerate() {
        let field = format!("{kind}[{i}].name");
        if !valid_name(name.get_ref()) {
            r.report(name.span(), field, Problem::BadName(name.get_ref().clone()));
        } else if let Some(&index) = map.get(name.get_ref().as_str()) {
            let problem = Problem::DuplicateName {
                name: name.get_ref().clone(),
                kind,
                index,
            };
            r.report(name.span(), field, problem);
        } else {
            map.insert(name.get_ref().as_str(), i);
        }
    }
    map
}

/// A name usable as a network namespace name and safe in any output.
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    first_ok
        && name.len() <= 48
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Resolves a reference to a named resource, reporting `unknown` if there is none.
fn lookup<T: From<u32>>(
    r: &mut Reporter<'_>,
    names: &HashMap<&str, usize>,
    reference: &Spanned<String>,
    field: String,
    unknown: fn(String) -> Problem,
) -> Option<T> {
    match names.get(reference.get_ref().as_str()) {
        Some(&i) => Some(T::from(i as u32)),
        None => {
            r.report(
                reference.span(),
                field,
                unknown(reference.get_ref().clone()),
            );
            None
        }
    }
}

/// A written account ID (an `owner_id`), or [`DEFAULT_ACCOUNT`] if there is none.
fn account<'a>(
    r: &mut Reporter<'_>,
    written: Option<&'a Spanned<String>>,
    field: String,
) -> Option<&'a str> {
    let Some(w) = written else {
        return Some(DEFAULT_ACCOUNT);
    };
    if account::is_account_id(w.get_ref()) {
        return Some(w.get_ref());
    }
    r.report(w.span(), field, Problem::BadAccountId(w.get_ref().clone()));
    None
}

/// A written region, or [`DEFAULT_REGION`] if there is none.
fn region<'a>(
    r: &mut Reporter<'_>,
    written: Option<&'a Spanned<String>>,
    field: String,
) -> Option<&'a str> {
    let Some(w) = written else {
        return Some(DEFAULT_REGION);
    };
    if account::is_region_name(w.get_ref()) {
        return Some(w.get_ref());
    }
    r.report(w.span(), field, Problem::BadRegion(w.get_ref().clone()));
    None
}

/// Parses a canonical IPv4 CIDR.
fn parse_cidr(r: &mut Reporter<'_>, s: &Spanned<String>, field: String) -> Option<Ipv4Net> {
    let text = s.get_ref();
    let Ok(net) = text.parse::<Ipv4Net>() else {
        r.report(s.span(), field, Problem::BadCidr(text.clone()));
        return None;
    };
    if net.trunc() != net {
        let problem = Problem::NonCanonicalCidr {
            given: text.clone(),
            canonical: net.trunc(),
        };
        r.report(s.span(), field, problem);
        return None;
    }
    Some(net)
}

/// Whether a VPC or subnet block is /16../28; reports it if not.
fn in_size_range(r: &mut Reporter<'_>, cidr: Ipv4Net, s: &Spanned<String>, field: &str) -> bool {
    let ok = (MIN_PREFIX..=MAX_PREFIX).contains(&cidr.prefix_len());
    if !ok {
        r.report(s.span(), field, Problem::PrefixOutOfRange { cidr });
    }
    ok
}

/// Parses one VPC block: canonical, /16../28, in unicast host space.
fn vpc_block(r: &mut Reporter<'_>, s: &Spanned<String>, field: String) -> Option<Ipv4Net> {
    let net = parse_cidr(r, s, field.clone())?;
    if !in_size_range(r, net, s, &field) {
        return None;
    }
    for (range, why) in UNUSABLE {
        if overlaps(range, net) {
            r.report(
                s.span(),
                field,
                Problem::UnusableVpcRange { cidr: net, why },
            );
            return None;
        }
    }
    Some(net)
}

fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

#[cfg(test)]
mod tests {
    use crate::{ConfigError, EniId, Problem, Route, RouteOrigin, RouteTarget, Topology, parse};

    const VPC: &str = r#"
[[vpc]]
name = "main"
cidr = "10.0.0.0/16"

[[subnet]]
name = "a"
vpc = "main"
cidr = "10.0.1.0/24"
az = "x"
"#;

    /// The rendered diagnostics for `src` (which must be invalid).
    fn errors(src: &str) -> Vec<String> {
        match parse(src, "t.toml") {
            Ok(t) => panic!("expected errors, got {t:?}"),
            Err(ConfigError::Invalid(d)) => d.iter().map(|d| d.to_string()).collect(),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    fn problems(src: &str) -> Vec<Problem> {
        match parse(src, "t.toml") {
            Err(ConfigError::Invalid(d)) => d.into_iter().map(|d| d.problem).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn ok(src: &str) -> Topology {
        parse(src, "t.toml").unwrap_or_else(|e| panic!("expected valid config, got:\n{e}"))
    }

    #[test]
    fn tags_follow_aws_rules() {
        let t = ok(&format!(
            "{VPC}\n[tags.\"vpc-0a1b2c3d4e5f67890\"]\nName = \"x\"\nenv = \"dev\"\n"
        ));
        assert_eq!(t.tags.len(), 1);
        assert_eq!(t.tags["vpc-0a1b2c3d4e5f67890"]["env"], "dev");
        // Attributes the EC2 API keeps: their defaults.
        assert!(t.vpcs[0].enable_dns_support && !t.vpcs[0].enable_dns_hostnames);
        assert!(!t.subnets[0].map_public_ip_on_launch);
        let long_key = "k".repeat(129);
        let long_value = "v".repeat(257);
        let src = format!(
            "{VPC}\n[tags.x]\n\"aws:x\" = \"1\"\n\"\" = \"2\"\n{long_key} = \"3\"\nok = \"{long_value}\"\n"
        );
        assert_eq!(
            errors(&src),
            [
                "t.toml:13:1: tags.\"x\".\"aws:x\" tag key \"aws:x\" starts with \"aws:\", which AWS reserves for itself".to_owned(),
                "t.toml:14:1: tags.\"x\".\"\" tag key \"\" must be 1 to 128 characters".to_owned(),
                format!("t.toml:15:1: tags.\"x\".{long_key:?} tag key {long_key:?} must be 1 to 128 characters"),
                "t.toml:16:6: tags.\"x\".\"ok\" tag value has 257 characters; AWS allows at most 256".to_owned(),
            ]
        );
        let many: String = (0..51).map(|i| format!("k{i} = \"v\"\n")).collect();
        assert_eq!(
            errors(&format!("{VPC}\n[tags.x]\n{many}")),
            ["t.toml:12:7: tags.\"x\" has 51 tags; AWS allows at most 50"]
        );
    }

    #[test]
    fn overlapping_subnet_names_file_line_column_and_field() {
        let src = format!(
            "{VPC}\n[[subnet]]\nname = \"b\"\nvpc = \"main\"\ncidr = \"10.0.1.128/25\"\naz = \"x\"\n"
        );
        assert_eq!(
            errors(&src),
            ["t.toml:15:8: subnet[1].cidr 10.0.1.128/25 overlaps subnet \"a\" (10.0.1.0/24)"]
        );
    }

    #[test]
    fn subnet_outside_the_vpc() {
        let src = VPC.replace("10.0.1.0/24", "10.1.0.0/24");
        assert_eq!(
            errors(&src),
            ["t.toml:9:8: subnet[0].cidr 10.1.0.0/24 is outside vpc \"main\" (10.0.0.0/16)"]
        );
    }

    #[test]
    fn a_secondary_cidr_holds_subnets_and_gets_a_local_route() {
        let src = VPC
            .replace(
                "cidr = \"10.0.0.0/16\"",
                "cidr = \"10.0.0.0/16\"\nsecondary_cidrs = [\"10.1.0.0/16\"]",
            )
            .replace("10.0.1.0/24", "10.1.0.0/24");
        let t = ok(&src);
        assert_eq!(t.vpcs[0].cidrs.len(), 2);
        let main = t.route_table(t.vpcs[0].main_route_table);
        assert!(main.main);
        assert_eq!(main.name, "main-main");
        let locals: Vec<String> = main
            .routes
            .iter()
            .map(|r| r.destination.to_string())
            .collect();
        assert_eq!(locals, ["10.0.0.0/16", "10.1.0.0/16"]);
    }

    #[test]
    fn vpc_blocks_are_canonical_sized_usable_and_at_most_five() {
        let p = problems("[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.1/16\"\n");
        assert!(
            matches!(&p[..], [Problem::NonCanonicalCidr { canonical, .. }] if canonical.to_string() == "10.0.0.0/16")
        );
        let p = problems("[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/15\"\n");
        assert!(matches!(&p[..], [Problem::PrefixOutOfRange { .. }]));
        let p = problems("[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/29\"\n");
        assert!(matches!(&p[..], [Problem::PrefixOutOfRange { .. }]));
        let p = problems("[[vpc]]\nname = \"v\"\ncidr = \"127.0.0.0/16\"\n");
        assert!(matches!(
            &p[..],
            [Problem::UnusableVpcRange {
                why: "loopback",
                ..
            }]
        ));
        let p = problems("[[vpc]]\nname = \"v\"\ncidr = \"ten\"\n");
        assert!(matches!(&p[..], [Problem::BadCidr(s)] if s == "ten"));
        let p = problems(
            "[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/16\"\nsecondary_cidrs = [\"10.1.0.0/16\", \"10.2.0.0/16\", \"10.3.0.0/16\", \"10.4.0.0/16\", \"10.5.0.0/16\"]\n",
        );
        assert_eq!(p, [Problem::TooManyVpcCidrs { count: 6 }]);
        let p = problems(
            "[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/16\"\nsecondary_cidrs = [\"10.0.128.0/17\"]\n",
        );
        assert!(matches!(&p[..], [Problem::VpcCidrOverlap { .. }]));
    }

    #[test]
    fn a_vpc_has_an_owner_and_a_region() {
        let t = ok(VPC);
        assert_eq!(t.vpcs[0].owner_id, crate::DEFAULT_ACCOUNT);
        assert_eq!(t.vpcs[0].region, crate::DEFAULT_REGION);
        let written = VPC.replace(
            "cidr = \"10.0.0.0/16\"",
            "cidr = \"10.0.0.0/16\"\nowner_id = \"444455556666\"\nregion = \"us-gov-west-1\"",
        );
        let t = ok(&written);
        assert_eq!(t.vpcs[0].owner_id, "444455556666");
        assert_eq!(t.vpcs[0].region, "us-gov-west-1");
        let bad = VPC.replace(
            "cidr = \"10.0.0.0/16\"",
            "cidr = \"10.0.0.0/16\"\nowner_id = \"4444-5555-6666\"\nregion = \"Frankfurt\"",
        );
        assert_eq!(
            errors(&bad),
            [
                "t.toml:5:12: vpc[0].owner_id \"4444-5555-6666\" is not an AWS account ID (12 digits, like \"123456789012\")",
                "t.toml:6:10: vpc[0].region \"Frankfurt\" is not an AWS region name (lowercase words and a number joined by dashes, like \"us-east-1\", \"eu-west-1\" or \"us-gov-west-1\", or vpcd's own \"local-1\", \"local-2\", ...)",
            ]
        );
        assert_eq!(
            problems(&VPC.replace(
                "cidr = \"10.0.0.0/16\"",
                "cidr = \"10.0.0.0/16\"\nowner_id = 123456789012"
            ))
            .len(),
            1
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_field() {
        assert_eq!(
            errors("[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/16\"\ncider = 1\n"),
            [
                "t.toml:4:1: vpc[0].cider unknown field `cider`, expected one of `name`, `cidr`, `secondary_cidrs`, `owner_id`, `region`, `enable_dns_support`, `enable_dns_hostnames`, `enable_network_address_usage_metrics`, `dhcp_options`"
            ]
        );
        assert_eq!(
            errors("[[vpc]]\nname = 5\ncidr = \"10.0.0.0/16\"\n"),
            ["t.toml:2:8: vpc[0].name invalid type: integer `5`, expected a string"]
        );
        assert_eq!(
            errors("[[vpc]]\nname = \"v\"\n"),
            ["t.toml:1:1: vpc[0] missing field `cidr`"]
        );
        let e = errors("[[vpc]\n");
        assert!(e[0].starts_with("t.toml:1:"), "{e:?}");
    }

    #[test]
    fn names_are_unique_per_kind_and_safe() {
        let src = format!(
            "{VPC}\n[[subnet]]\nname = \"a\"\nvpc = \"main\"\ncidr = \"10.0.2.0/24\"\naz = \"x\"\n"
        );
        assert_eq!(
            errors(&src),
            ["t.toml:13:8: subnet[1].name \"a\" is already the name of subnet 0"]
        );
        let p = problems(&format!(
            "{VPC}\n[[instance]]\nname = \"../etc\"\nsubnet = \"a\"\n"
        ));
        assert_eq!(p, [Problem::BadName("../etc".into())]);
    }

    #[test]
    fn references_must_exist() {
        let p = problems(&VPC.replace("vpc = \"main\"", "vpc = \"nope\""));
        assert_eq!(p, [Problem::UnknownVpc("nope".into())]);
        let p = problems(&format!(
            "{VPC}\n[[instance]]\nname = \"i\"\nsubnet = \"b\"\n"
        ));
        assert_eq!(p, [Problem::UnknownSubnet("b".into())]);
        let src = format!(
            "{VPC}\n[[route_table]]\nname = \"rt\"\nvpc = \"main\"\nsubnets = [\"zz\"]\nroute = [{{ destination = \"0.0.0.0/0\", instance = \"ghost\" }}]\n"
        );
        assert_eq!(
            problems(&src),
            [
                Problem::UnknownSubnet("zz".into()),
                Problem::UnknownInstance("ghost".into())
            ]
        );
    }

    #[test]
    fn addresses_are_inside_not_reserved_unique_and_allocated() {
        let inst = |ip: &str| {
            format!("{VPC}\n[[instance]]\nname = \"i\"\nsubnet = \"a\"\nprivate_ip = \"{ip}\"\n")
        };
        for (ip, what) in [
            ("10.0.1.0", "the network address"),
            ("10.0.1.1", "the VPC router address"),
            ("10.0.1.2", "the DNS resolver address"),
            ("10.0.1.3", "reserved by AWS for future use"),
            ("10.0.1.255", "the broadcast address"),
        ] {
            assert_eq!(
                errors(&inst(ip)),
                [format!(
                    "t.toml:15:14: instance[0].private_ip {ip} is {what} of subnet \"a\" (10.0.1.0/24) and cannot be assigned"
                )]
            );
        }
        assert!(matches!(
            &problems(&inst("10.0.2.4"))[..],
            [Problem::AddressOutsideSubnet { .. }]
        ));
        assert!(matches!(
            &problems(&inst("10.0.1.x"))[..],
            [Problem::BadAddress(_)]
        ));

        // Written addresses are claimed before allocation, whatever the file order.
        let src = format!(
            "{VPC}\n[[instance]]\nname = \"first\"\nsubnet = \"a\"\n\n[[instance]]\nname = \"second\"\nsubnet = \"a\"\nprivate_ip = \"10.0.1.4\"\n\n[[instance]]\nname = \"dup\"\nsubnet = \"a\"\nprivate_ip = \"10.0.1.4\"\n"
        );
        assert_eq!(
            errors(&src),
            ["t.toml:24:14: instance[2].private_ip 10.0.1.4 is already assigned to second/eth0"]
        );
        let t = ok(&src.replace(
            "name = \"dup\"\nsubnet = \"a\"\nprivate_ip = \"10.0.1.4\"",
            "name = \"third\"\nsubnet = \"a\"",
        ));
        let ips: Vec<String> = t.enis.iter().map(|e| e.private_ip.to_string()).collect();
        assert_eq!(ips, ["10.0.1.5", "10.0.1.4", "10.0.1.6"]);
    }

    #[test]
    fn a_full_subnet_is_an_error() {
        let mut src = VPC.replace("10.0.1.0/24", "10.0.1.0/28");
        for i in 0..12 {
            src += &format!("\n[[instance]]\nname = \"i{i}\"\nsubnet = \"a\"\n");
        }
        let p = problems(&src);
        assert_eq!(p.len(), 1);
        assert!(matches!(&p[0], Problem::SubnetFull { subnet, .. } if subnet == "a"));
    }

    #[test]
    fn secondary_interfaces_share_the_availability_zone() {
        let src = format!(
            "{VPC}\n[[subnet]]\nname = \"b\"\nvpc = \"main\"\ncidr = \"10.0.2.0/24\"\naz = \"y\"\n\n[[instance]]\nname = \"fw\"\nsubnet = \"a\"\n[[instance.eni]]\nsubnet = \"b\"\n"
        );
        assert_eq!(
            errors(&src),
            [
                "t.toml:22:10: instance[0].eni[0].subnet subnet \"b\" is in availability zone \"y\", the instance's eth0 in \"x\""
            ]
        );
        let t = ok(&src.replace("az = \"y\"", "az = \"x\""));
        assert_eq!(t.instances[0].enis.len(), 2);
        assert_eq!(t.eni_name(t.instances[0].enis[1]).to_string(), "fw/eth1");
        assert_eq!(t.enis[1].private_ip.to_string(), "10.0.2.4");
    }

    #[test]
    fn route_tables_main_and_associations() {
        let two_mains = format!(
            "{VPC}\n[[route_table]]\nname = \"r1\"\nvpc = \"main\"\nmain = true\n\n[[route_table]]\nname = \"r2\"\nvpc = \"main\"\nmain = true\n"
        );
        assert_eq!(
            problems(&two_mains),
            [Problem::SecondMainTable {
                vpc: "main".into(),
                other: "r1".into()
            }]
        );
        let double = format!(
            "{VPC}\n[[route_table]]\nname = \"r1\"\nvpc = \"main\"\nsubnets = [\"a\"]\n\n[[route_table]]\nname = \"r2\"\nvpc = \"main\"\nsubnets = [\"a\"]\n"
        );
        assert_eq!(
            problems(&double),
            [Problem::DoubleAssociation {
                kind: "route table",
                subnet: "a".into(),
                other: "r1".into()
            }]
        );
        let across = format!(
            "{VPC}\n[[vpc]]\nname = \"other\"\ncidr = \"10.1.0.0/16\"\n\n[[route_table]]\nname = \"r1\"\nvpc = \"other\"\nsubnets = [\"a\"]\n"
        );
        assert_eq!(
            errors(&across),
            [
                "t.toml:19:12: route_table[0].subnets[0] subnet \"a\" is in vpc \"main\", the route table in vpc \"other\""
            ]
        );
        // The implicit main table's name is its own.
        assert_eq!(
            errors(&format!(
                "{VPC}\n[[route_table]]\nname = \"main-main\"\nvpc = \"main\"\n"
            )),
            [
                "t.toml:13:8: route_table[0].name \"main-main\" is the name of vpc \"main\"'s implicit main route table: declare that table with main = true, or choose another name"
            ]
        );
        ok(&format!(
            "{VPC}\n[[route_table]]\nname = \"main-main\"\nvpc = \"main\"\nmain = true\n"
        ));
        let t = ok(&format!(
            "{VPC}\n[[route_table]]\nname = \"r1\"\nvpc = \"main\"\nsubnets = [\"a\"]\n"
        ));
        assert!(t.subnets[0].explicit_association);
        assert_eq!(t.route_table(t.subnets[0].route_table).name, "r1");
        // The VPC got an implicit main table as well.
        assert_eq!(t.route_tables.len(), 2);
    }

    #[test]
    fn routes_follow_aws_rules() {
        let table = |routes: &str| {
            format!(
                "{VPC}\n[[subnet]]\nname = \"b\"\nvpc = \"main\"\ncidr = \"10.0.2.0/24\"\naz = \"x\"\n\n[[instance]]\nname = \"fw\"\nsubnet = \"a\"\nsource_dest_check = false\n\n[[route_table]]\nname = \"rt\"\nvpc = \"main\"\nroute = [{routes}]\n"
            )
        };
        // Middlebox routing: a whole subnet's CIDR to an interface, and a default route.
        let t = ok(&table(
            "{ destination = \"10.0.2.0/24\", instance = \"fw\" }, { destination = \"0.0.0.0/0\", network_interface = \"fw/eth0\" }",
        ));
        let rt = &t.route_tables[0];
        assert_eq!(rt.routes.len(), 3);
        assert!(!t.enis[0].source_dest_check);
        // A VPC block with a network interface target replaces the local route's
        // target (validate/routes.rs tests the details).
        let t = ok(&table(
            "{ destination = \"10.0.0.0/16\", instance = \"fw\" }",
        ));
        assert_eq!(
            t.route_tables[0].routes,
            [Route {
                destination: "10.0.0.0/16".parse().unwrap(),
                target: RouteTarget::Eni(EniId(0)),
                origin: RouteOrigin::Local,
            }]
        );
        assert!(matches!(
            &problems(&table(
                "{ destination = \"10.0.2.0/25\", instance = \"fw\" }"
            ))[..],
            [Problem::MoreSpecificThanLocal { .. }]
        ));
        assert!(matches!(
            &problems(&table(
                "{ destination = \"0.0.0.0/0\", instance = \"fw\" }, { destination = \"0.0.0.0/0\", instance = \"fw\" }"
            ))[..],
            [Problem::DuplicateRoute { index: 0, .. }]
        ));
        assert_eq!(
            problems(&table("{ destination = \"0.0.0.0/0\" }")),
            [Problem::RouteTargetCount { found: 0 }]
        );
        assert_eq!(
            problems(&table(
                "{ destination = \"0.0.0.0/0\", network_interface = \"fw/eth3\" }"
            )),
            [Problem::UnknownNetworkInterface("fw/eth3".into())]
        );
        assert!(matches!(
            &problems(&table(
                "{ destination = \"192.168.0.1/16\", instance = \"fw\" }"
            ))[..],
            [Problem::NonCanonicalCidr { .. }]
        ));
    }

    #[test]
    fn every_error_is_reported_in_one_run() {
        let src = "[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/8\"\n\n[[subnet]]\nname = \"s\"\nvpc = \"w\"\ncidr = \"10.0.0.0/30\"\naz = \"\"\n";
        assert_eq!(
            errors(src),
            [
                "t.toml:3:8: vpc[0].cidr 10.0.0.0/8 has prefix length /8; AWS allows /16 to /28",
                "t.toml:7:7: subnet[0].vpc \"w\" is not a declared vpc",
                "t.toml:8:8: subnet[0].cidr 10.0.0.0/30 has prefix length /30; AWS allows /16 to /28",
                "t.toml:9:6: subnet[0].az must name an availability zone",
            ]
        );
    }
}
