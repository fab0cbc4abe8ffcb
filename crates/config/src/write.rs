//! A topology written back as a configuration file: [`to_toml`] gives the text that
//! [`crate::parse`] reads back into an equal topology. It is the form of vpcd's state
//! file, written when the topology changes at run time (the control socket's changes,
//! [`crate::edit`], the EC2 API calls of a running VPC) and read at the next start, and
//! [`crate::plan`] compares two topologies table by table in this form.
//!
//! The text is the file format of `docs/config.md`, as a person writes it: one table
//! per resource, resources of a kind in topology order, kinds in a fixed order (VPCs,
//! subnets, route tables, instances, terminated instances, security groups, network ACLs, flow logs,
//! internet gateways, Elastic IPs, NAT gateways, internet hosts, AWS services, VPC endpoints, VPC peering
//! connections, transit gateways, their VPC and peering attachments, resource shares,
//! transit gateway route tables, multicast domains, `[limits]`), references by name. A
//! key whose value is what the parser supplies when it is omitted is left out (an
//! account, a region, an option's default, a peering connection's or an attachment's
//! default status, an Elastic IP's default name, AWS's default rules of a security
//! group or network ACL...). Addresses are always written, allocated ones included, so
//! that a hand edit adding an instance cannot move the address of another one.
//!
//! What the parser creates by itself is not written while it is what the parser would
//! create: a VPC's implicit main route table, default security group and default
//! network ACL, a transit gateway's implicit default route table, and the associations
//! and propagations a default route table gets by default. The run-time states AWS
//! reaches only through its API are written with the keys the file has for them: a
//! deleted NAT gateway (`state = "deleted"`), a peering connection's or an attachment's
//! status (`deleted` included), a route to an internet gateway detached from its VPC
//! (`state = "blackhole"`), an attachment that no longer takes its gateway's default
//! association or propagation (`default_route_table_association = "disable"`,
//! `default_route_table_propagation = "disable"`).
//!
//! Not kept, because the topology does not keep them: comments, and which of two
//! equivalent spellings was used
//! (`network_interface = "web/eth0"` is written `instance = "web"`, an Elastic IP
//! named by address in a NAT gateway is named by name).

use std::fmt::Display;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::account::{DEFAULT_ACCOUNT, DEFAULT_REGION};
use crate::fabric::*;
use crate::security::*;
use crate::topology::*;
use crate::validate::security::{nacl_allow_all, sg_allow_all};

mod dns;
mod endpoints;
mod vpn;

/// The topology as a configuration file that [`crate::parse`] reads back into an equal
/// topology (`parse(&to_toml(&t), file) == Ok(t)`).
pub fn to_toml(t: &Topology) -> String {
    let mut out = String::new();
    for table in tables(t).into_iter().filter(|table| table.written) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&table.text);
    }
    out
}

/// One resource as a table of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    /// The table's name in the file: `vpc`, `subnet`, ..., `limits`.
    pub kind: &'static str,
    /// The resource's name (empty for `limits`).
    pub name: String,
    /// The VPC of a security group or network ACL, whose names are unique per VPC.
    pub vpc: Option<String>,
    /// The table, as written.
    pub text: String,
    /// Whether [`to_toml`] writes it: false for what the parser creates by itself
    /// exactly so (an implicit main route table, default security group or network
    /// ACL, default transit gateway route table; `[limits]` at its defaults).
    pub written: bool,
}

/// Every resource of the topology as a table, in the order [`to_toml`] writes them.
pub(crate) fn tables(t: &Topology) -> Vec<Table> {
    let w = Writer { t };
    let mut out = Vec::new();
    w.vpcs(&mut out);
    w.subnets(&mut out);
    w.route_tables(&mut out);
    w.instances(&mut out);
    w.terminated_instances(&mut out);
    w.security_groups(&mut out);
    w.network_acls(&mut out);
    w.flow_logs(&mut out);
    w.internet_gateways(&mut out);
    w.elastic_ips(&mut out);
    w.nat_gateways(&mut out);
    w.internet_hosts(&mut out);
    w.aws_services(&mut out);
    w.vpc_endpoints(&mut out);
    w.vpn_gateways(&mut out);
    w.customer_gateways(&mut out);
    w.vpn_connections(&mut out);
    w.peering_connections(&mut out);
    w.transit_gateways(&mut out);
    w.tgw_attachments(&mut out);
    w.resource_shares(&mut out);
    w.tgw_route_tables(&mut out);
    w.multicast_domains(&mut out);
    w.dhcp_options(&mut out);
    w.hosted_zones(&mut out);
    w.limits(&mut out);
    w.tags(&mut out);
    out
}

/// The launch keys of an instance (those that are set).
fn launch(x: &mut Text, l: &Launch) {
    for (key, value) in [
        ("image_id", &l.image_id),
        ("instance_type", &l.instance_type),
        ("key_name", &l.key_name),
        ("user_data", &l.user_data),
        ("launch_time", &l.launch_time),
        ("client_token", &l.client_token),
        ("instance_initiated_shutdown_behavior", &l.shutdown_behavior),
    ] {
        if let Some(v) = value {
            x.string(key, v);
        }
    }
    if l.disable_api_termination {
        x.key("disable_api_termination", true);
    }
    if l.disable_api_stop {
        x.key("disable_api_stop", true);
    }
    if let Some(options) = crate::metadata::inline_table(&l.metadata_options) {
        x.key("metadata_options", options);
    }
}

/// The text of one table, key by key.
struct Text(String);

impl Text {
    /// A table of the array `kind`: `[[kind]]`.
    fn new(kind: &str) -> Text {
        Text(format!("[[{kind}]]\n"))
    }

    /// `key = value`, the value already in TOML.
    fn key(&mut self, key: &str, value: impl Display) {
        self.0.push_str(&format!("{key} = {value}\n"));
    }

    /// `key = "value"`.
    fn string(&mut self, key: &str, value: impl Display) {
        self.key(key, quote(&value.to_string()));
    }

    /// `key = ["a", "b"]`, unless the list is empty.
    fn strings<T: Display>(&mut self, key: &str, values: impl IntoIterator<Item = T>) {
        let values: Vec<String> = values.into_iter().map(|v| quote(&v.to_string())).collect();
        if !values.is_empty() {
            self.key(key, format!("[{}]", values.join(", ")));
        }
    }

    /// `key = [{ ... }, ...]` of inline tables, one per line when there are several,
    /// unless the list is empty.
    fn inline_tables(&mut self, key: &str, entries: Vec<Inline>) {
        match &entries[..] {
            [] => {}
            [one] => self.key(key, format!("[{}]", one.text())),
            _ => {
                let lines: Vec<String> = entries
                    .iter()
                    .map(|e| format!("  {},\n", e.text()))
                    .collect();
                self.key(key, format!("[\n{}]", lines.concat()));
            }
        }
    }
}

/// An inline table: `{ key = value, ... }`.
#[derive(Default)]
struct Inline(Vec<(&'static str, String)>);

impl Inline {
    /// `key = value`, the value already in TOML.
    fn key(&mut self, key: &'static str, value: impl Display) -> &mut Inline {
        self.0.push((key, value.to_string()));
        self
    }

    /// `key = "value"`.
    fn string(&mut self, key: &'static str, value: impl Display) -> &mut Inline {
        self.key(key, quote(&value.to_string()))
    }

    fn text(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        format!("{{ {} }}", pairs.join(", "))
    }
}

/// A TOML basic string: `"..."`, with `"`, `\` and control characters escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `"enable"` or `"disable"`.
fn enable(on: bool) -> &'static str {
    if on { "enable" } else { "disable" }
}

/// Which tables of a list are left out as what the parser creates by itself: the
/// longest run at the end of the list whose tables are each `implicit` (the parser's
/// table of owner `Some(o)`: a VPC, a transit gateway) with their owners in increasing
/// order, which is the order the parser appends them in.
fn implicit_suffix(n: usize, implicit: impl Fn(usize) -> Option<u32>) -> Vec<bool> {
    let mut skip = vec![false; n];
    let mut after: Option<u32> = None;
    for i in (0..n).rev() {
        match implicit(i) {
            Some(owner) if after.is_none_or(|a| owner < a) => {
                skip[i] = true;
                after = Some(owner);
            }
            _ => break,
        }
    }
    skip
}

struct Writer<'t> {
    t: &'t Topology,
}

impl Writer<'_> {
    fn vpc_name(&self, v: VpcId) -> &str {
        &self.t.vpc(v).name
    }

    fn subnet_name(&self, s: SubnetId) -> &str {
        &self.t.subnet(s).name
    }

    /// A network interface where a key takes only `instance/ethN`.
    fn eni_name(&self, e: EniId) -> String {
        self.t.eni_name(e).to_string()
    }

    /// A network interface as a target: `instance = "fw"` for the only interface of
    /// an instance, else `network_interface = "fw/eth1"`.
    fn eni_target(&self, e: EniId) -> (&'static str, String) {
        let inst = self.t.instance(self.t.eni(e).instance);
        if inst.enis.len() == 1 {
            ("instance", inst.name.clone())
        } else {
            ("network_interface", self.eni_name(e))
        }
    }

    fn table(&self, kind: &'static str, name: &str, text: Text) -> Table {
        Table {
            kind,
            name: name.to_owned(),
            vpc: None,
            text: text.0,
            written: true,
        }
    }

    fn vpcs(&self, out: &mut Vec<Table>) {
        for v in &self.t.vpcs {
            let mut x = Text::new("vpc");
            x.string("name", &v.name);
            if let Some(primary) = v.cidrs.first() {
                x.string("cidr", primary);
            }
            x.strings("secondary_cidrs", v.cidrs.iter().skip(1));
            if v.owner_id != DEFAULT_ACCOUNT {
                x.string("owner_id", &v.owner_id);
            }
            if v.region != DEFAULT_REGION {
                x.string("region", &v.region);
            }
            if !v.enable_dns_support {
                x.key("enable_dns_support", false);
            }
            if v.enable_dns_hostnames {
                x.key("enable_dns_hostnames", true);
            }
            if v.enable_network_address_usage_metrics {
                x.key("enable_network_address_usage_metrics", true);
            }
            if let Some(o) = v.dhcp_options {
                x.string("dhcp_options", &self.t.dhcp_options[o.index()].name);
            }
            out.push(self.table("vpc", &v.name, x));
        }
    }

    fn subnets(&self, out: &mut Vec<Table>) {
        for s in &self.t.subnets {
            let mut x = Text::new("subnet");
            x.string("name", &s.name);
            x.string("vpc", self.vpc_name(s.vpc));
            x.string("cidr", s.cidr);
            x.string("az", &s.az);
            if s.map_public_ip_on_launch {
                x.key("map_public_ip_on_launch", true);
            }
            out.push(self.table("subnet", &s.name, x));
        }
    }

    /// The VPC whose implicit main table route table `i` is, if it is exactly that:
    /// its VPC's main table, named `<vpc>-main`, with its local routes only, no edge
    /// and no subnet association.
    fn implicit_main_table(&self, i: usize) -> Option<u32> {
        let t = self.t;
        let rt = &t.route_tables[i];
        let vpc = t.vpc(rt.vpc);
        let plain = rt.main
            && rt.name == format!("{}-main", vpc.name)
            && rt.gateways.is_empty()
            && rt.propagating_vgws.is_empty()
            && rt.routes.len() == vpc.cidrs.len()
            && rt
                .routes
                .iter()
                .all(|r| r.origin == RouteOrigin::Local && r.target == RouteTarget::Local)
            && !t
                .subnets
                .iter()
                .any(|s| s.explicit_association && s.route_table.index() == i);
        plain.then_some(rt.vpc.0)
    }

    fn route_tables(&self, out: &mut Vec<Table>) {
        let t = self.t;
        let skip = implicit_suffix(t.route_tables.len(), |i| self.implicit_main_table(i));
        for (i, rt) in t.route_tables.iter().enumerate() {
            let mut x = Text::new("route_table");
            x.string("name", &rt.name);
            x.string("vpc", self.vpc_name(rt.vpc));
            if rt.main {
                x.key("main", true);
            }
            let subnets = t
                .subnets
                .iter()
                .filter(|s| s.explicit_association && s.route_table.index() == i);
            x.strings("subnets", subnets.map(|s| &s.name));
            let gateways = rt.gateways.iter().map(|&g| &t.internet_gateway(g).name);
            x.strings("gateways", gateways);
            let vgws = rt.propagating_vgws.iter().map(|&g| &t.vpn_gateway(g).name);
            x.strings("propagating_vgws", vgws);
            // Local routes only where their target was replaced; then the others.
            let routes = rt
                .routes
                .iter()
                .filter(|r| r.origin == RouteOrigin::Static || r.target != RouteTarget::Local)
                .map(|r| self.route(rt, r))
                .collect();
            x.inline_tables("route", routes);
            let mut table = self.table("route_table", &rt.name, x);
            table.written = !skip[i];
            out.push(table);
        }
    }

    /// One route of table `rt`, with its state where the file needs it: a route to
    /// an internet gateway not attached to the table's VPC.
    fn route(&self, rt: &RouteTable, r: &Route) -> Inline {
        let t = self.t;
        let mut e = Inline::default();
        e.string("destination", r.destination);
        match r.target {
            // Not a configured route's target (a local route's is not written).
            RouteTarget::Local => {}
            RouteTarget::Eni(id) => {
                let (key, value) = self.eni_target(id);
                e.string(key, value);
            }
            RouteTarget::InternetGateway(g) => {
                let igw = t.internet_gateway(g);
                e.string("internet_gateway", &igw.name);
                if igw.vpc != Some(rt.vpc) {
                    e.string("state", "blackhole");
                }
            }
            RouteTarget::NatGateway(n) => {
                e.string("nat_gateway", &t.nat_gateway(n).name);
            }
            RouteTarget::VpcPeeringConnection(p) => {
                e.string("vpc_peering_connection", &t.vpc_peering_connection(p).name);
            }
            RouteTarget::TransitGateway(g) => {
                e.string("transit_gateway", &t.transit_gateway(g).name);
            }
            // Never a route of `rt.routes`: an endpoint's routes are its own
            // (`route_tables` of its `[[vpc_endpoint]]`).
            RouteTarget::VpcEndpoint(_) => {}
            RouteTarget::VpnGateway(g) => {
                let vgw = t.vpn_gateway(g);
                e.string("vpn_gateway", &vgw.name);
                if vgw.vpc != Some(rt.vpc) {
                    e.string("state", "blackhole");
                }
            }
        }
        e
    }

    fn instances(&self, out: &mut Vec<Table>) {
        let t = self.t;
        for inst in &t.instances {
            let mut x = Text::new("instance");
            x.string("name", &inst.name);
            if let Some((&eth0, others)) = inst.enis.split_first() {
                self.interface(&mut x, eth0);
                launch(&mut x, &inst.launch);
                for &e in others {
                    x.0.push_str("\n[[instance.eni]]\n");
                    self.interface(&mut x, e);
                }
            }
            out.push(self.table("instance", &inst.name, x));
        }
    }

    /// `[[terminated_instance]]`s: what the EC2 API still shows of them.
    fn terminated_instances(&self, out: &mut Vec<Table>) {
        for inst in &self.t.terminated_instances {
            let mut x = Text::new("terminated_instance");
            x.string("name", &inst.name);
            if inst.owner_id != DEFAULT_ACCOUNT {
                x.string("owner_id", &inst.owner_id);
            }
            if inst.region != DEFAULT_REGION {
                x.string("region", &inst.region);
            }
            if let Some(az) = &inst.az {
                x.string("az", az);
            }
            launch(&mut x, &inst.launch);
            if let Some(time) = &inst.terminated_time {
                x.string("terminated_time", time);
            }
            out.push(self.table("terminated_instance", &inst.name, x));
        }
    }

    /// The keys of one network interface: the instance's own for `eth0`, an
    /// `[[instance.eni]]`'s for the others.
    fn interface(&self, x: &mut Text, e: EniId) {
        let t = self.t;
        let eni = t.eni(e);
        x.string("subnet", self.subnet_name(eni.subnet));
        x.string("private_ip", eni.private_ip);
        if !eni.source_dest_check {
            x.key("source_dest_check", false);
        }
        if let Some(ip) = eni.public_ip {
            x.string("public_ip", ip);
        }
        let default = t.vpc(t.eni_vpc(e)).default_security_group;
        if eni.security_groups != [default] {
            let names = eni
                .security_groups
                .iter()
                .map(|&g| &t.security_group(g).name);
            x.strings("security_groups", names);
        }
        let defaults = ConntrackTimeouts::default();
        let c = eni.conntrack;
        if c != defaults {
            let mut timeouts = Inline::default();
            if c.tcp_established != defaults.tcp_established {
                timeouts.key("tcp_established_timeout", c.tcp_established);
            }
            if c.udp_stream != defaults.udp_stream {
                timeouts.key("udp_stream_timeout", c.udp_stream);
            }
            if c.udp != defaults.udp {
                timeouts.key("udp_timeout", c.udp);
            }
            x.key("connection_tracking", timeouts.text());
        }
    }

    fn security_groups(&self, out: &mut Vec<Table>) {
        let t = self.t;
        for (i, g) in t.security_groups.iter().enumerate() {
            let own = SecurityGroupId(i as u32);
            let mut x = Text::new("security_group");
            x.string("name", &g.name);
            x.string("vpc", self.vpc_name(g.vpc));
            if let Some(d) = &g.description {
                x.string("description", d);
            }
            // AWS's rules of a new group, or of a VPC's default group, are omitted.
            let default_ingress = if g.default {
                vec![sg_allow_all(SgPeer::Group(own))]
            } else {
                Vec::new()
            };
            let default_egress = vec![sg_allow_all(SgPeer::Cidr(Ipv4Net::default()))];
            for (key, rules, default) in [
                ("ingress", &g.ingress, default_ingress),
                ("egress", &g.egress, default_egress),
            ] {
                if *rules == default {
                    continue;
                }
                if rules.is_empty() {
                    x.key(key, "[]");
                }
                let entries = rules.iter().map(|r| self.sg_rule(g, r)).collect();
                x.inline_tables(key, entries);
            }
            out.push(Table {
                kind: "security_group",
                name: g.name.clone(),
                vpc: Some(self.vpc_name(g.vpc).to_owned()),
                text: x.0,
                written: g.declared,
            });
        }
    }

    /// A rule of group `g`: protocol, ports or ICMP, peer, description.
    fn sg_rule(&self, g: &SecurityGroup, r: &SgRule) -> Inline {
        let mut e = Inline::default();
        e.string("protocol", r.protocol);
        l4(&mut e, r.l4);
        match r.peer {
            SgPeer::Cidr(c) => {
                e.string("cidr", c);
            }
            SgPeer::PrefixList(s) => {
                e.string(
                    "prefix_list_id",
                    crate::prefix_list_id(&self.t.aws_service(s).service_name()),
                );
            }
            SgPeer::Group(id) => {
                let peer = self.t.security_group(id);
                e.string("security_group", &peer.name);
                if peer.vpc != g.vpc {
                    e.string("vpc", self.vpc_name(peer.vpc));
                }
            }
        }
        if let Some(d) = &r.description {
            e.string("description", d);
        }
        e
    }

    fn network_acls(&self, out: &mut Vec<Table>) {
        let t = self.t;
        for (i, n) in t.network_acls.iter().enumerate() {
            let mut x = Text::new("network_acl");
            x.string("name", &n.name);
            x.string("vpc", self.vpc_name(n.vpc));
            // A subnet without an association uses the default NACL anyway.
            if !n.default {
                let subnets = t.subnets.iter().filter(|s| s.network_acl.index() == i);
                x.strings("subnets", subnets.map(|s| &s.name));
            }
            let default = if n.default {
                vec![nacl_allow_all()]
            } else {
                Vec::new()
            };
            for (key, rules) in [("ingress", &n.ingress), ("egress", &n.egress)] {
                if *rules == default {
                    continue;
                }
                if rules.is_empty() {
                    x.key(key, "[]");
                }
                x.inline_tables(key, rules.iter().map(nacl_rule).collect());
            }
            out.push(Table {
                kind: "network_acl",
                name: n.name.clone(),
                vpc: Some(self.vpc_name(n.vpc).to_owned()),
                text: x.0,
                written: n.declared,
            });
        }
    }

    fn flow_logs(&self, out: &mut Vec<Table>) {
        for f in &self.t.flow_logs {
            let mut x = Text::new("flow_log");
            x.string("name", &f.name);
            match f.resource {
                FlowLogResource::Vpc(v) => x.string("vpc", self.vpc_name(v)),
                FlowLogResource::Subnet(s) => x.string("subnet", self.subnet_name(s)),
                FlowLogResource::Eni(e) => x.string("network_interface", self.eni_name(e)),
            }
            if f.traffic_type != TrafficType::All {
                x.string("traffic_type", f.traffic_type);
            }
            x.string("log_destination", &f.destination);
            if f.format[..] != DEFAULT_FLOW_LOG_FORMAT[..] {
                let fields: Vec<String> = f
                    .format
                    .iter()
                    .map(|f| format!("${{{}}}", f.name()))
                    .collect();
                x.string("log_format", fields.join(" "));
            }
            if f.max_aggregation_interval != FLOW_LOG_INTERVALS[1] {
                x.key("max_aggregation_interval", f.max_aggregation_interval);
            }
            if let Some(d) = &f.delivery {
                x.string("log_destination_type", d.destination_type.name());
                x.string("log_destination_arn", &d.arn);
                if let Some(p) = &d.permission_arn {
                    x.string("deliver_logs_permission_arn", p);
                }
            }
            out.push(self.table("flow_log", &f.name, x));
        }
    }

    fn internet_gateways(&self, out: &mut Vec<Table>) {
        for g in &self.t.internet_gateways {
            let mut x = Text::new("internet_gateway");
            x.string("name", &g.name);
            if let Some(v) = g.vpc {
                x.string("vpc", self.vpc_name(v));
            }
            out.push(self.table("internet_gateway", &g.name, x));
        }
    }

    fn elastic_ips(&self, out: &mut Vec<Table>) {
        let t = self.t;
        for e in &t.elastic_ips {
            let mut x = Text::new("elastic_ip");
            if e.name != ElasticIp::default_name(e.address) {
                x.string("name", &e.name);
            }
            x.string("address", e.address);
            // A NAT gateway's Elastic IPs are named by the NAT gateway.
            if let Some(EipAssociation::Eni(id)) = e.association {
                match t.eni(id).device_index {
                    0 => x.string("instance", &t.instance(t.eni(id).instance).name),
                    _ => x.string("network_interface", self.eni_name(id)),
                }
            }
            out.push(self.table("elastic_ip", &e.name, x));
        }
    }

    fn nat_gateways(&self, out: &mut Vec<Table>) {
        let t = self.t;
        for (n, nat) in t.nat_gateways.iter().enumerate() {
            let id = NatGatewayId(n as u32);
            let mut x = Text::new("nat_gateway");
            x.string("name", &nat.name);
            x.string("subnet", self.subnet_name(nat.subnet));
            if nat.connectivity == NatConnectivity::Private {
                x.string("connectivity", "private");
            }
            let mut eips: Vec<(usize, &ElasticIp)> = t
                .elastic_ips
                .iter()
                .filter_map(|e| match e.association {
                    Some(EipAssociation::NatGateway(g, j)) if g == id => Some((j, e)),
                    _ => None,
                })
                .collect();
            eips.sort_by_key(|&(j, _)| j);
            // By name, unless the name reads as an address (then it is looked up as one).
            x.strings(
                "elastic_ips",
                eips.iter().map(|(_, e)| match e.name.parse::<Ipv4Addr>() {
                    Ok(_) => e.address.to_string(),
                    Err(_) => e.name.clone(),
                }),
            );
            x.strings("private_ips", &nat.private_ips);
            if nat.source_ports != NAT_DEFAULT_PORTS {
                x.string("source_ports", nat.source_ports);
            }
            if nat.deleted {
                x.string("state", "deleted");
            }
            out.push(self.table("nat_gateway", &nat.name, x));
        }
    }

    fn internet_hosts(&self, out: &mut Vec<Table>) {
        for h in &self.t.internet_hosts {
            if h.role != HostRole::Declared {
                continue;
            }
            let mut x = Text::new("internet_host");
            x.string("name", &h.name);
            x.string("address", h.address);
            x.strings("dns_names", &h.dns_names);
            out.push(self.table("internet_host", &h.name, x));
        }
    }

    fn peering_connections(&self, out: &mut Vec<Table>) {
        let t = self.t;
        for p in &t.vpc_peering_connections {
            let mut x = Text::new("vpc_peering_connection");
            x.string("name", &p.name);
            x.string("vpc", self.vpc_name(p.requester));
            x.string("peer_vpc", self.vpc_name(p.accepter));
            let default = PeeringStatus::new_between(
                t.vpc(p.requester).owner_id == t.vpc(p.accepter).owner_id,
            );
            if p.status != default {
                x.string("status", p.status.aws_name());
            }
            out.push(self.table("vpc_peering_connection", &p.name, x));
        }
    }

    fn transit_gateways(&self, out: &mut Vec<Table>) {
        for g in &self.t.transit_gateways {
            let mut x = Text::new("transit_gateway");
            x.string("name", &g.name);
            if g.owner_id != DEFAULT_ACCOUNT {
                x.string("owner_id", &g.owner_id);
            }
            if g.region != DEFAULT_REGION {
                x.string("region", &g.region);
            }
            if g.amazon_side_asn != DEFAULT_TGW_ASN {
                x.key("amazon_side_asn", g.amazon_side_asn);
            }
            for (key, value, default) in [
                (
                    "default_route_table_association",
                    g.default_route_table_association,
                    true,
                ),
                (
                    "default_route_table_propagation",
                    g.default_route_table_propagation,
                    true,
                ),
                (
                    "auto_accept_shared_attachments",
                    g.auto_accept_shared_attachments,
                    false,
                ),
                ("multicast_support", g.multicast_support, false),
            ] {
                if value != default {
                    x.string(key, enable(value));
                }
            }
            if !g.description.is_empty() {
                x.string("description", &g.description);
            }
            out.push(self.table("transit_gateway", &g.name, x));
        }
    }

    /// The VPC attachments, then the peering attachments (the topology's order).
    fn tgw_attachments(&self, out: &mut Vec<Table>) {
        let t = self.t;
        let vpc_first = t
            .tgw_attachments
            .iter()
            .enumerate()
            .filter(|(_, a)| a.vpc().is_some())
            .chain(
                t.tgw_attachments
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.vpc().is_none()),
            );
        for (i, a) in vpc_first {
            let id = TgwAttachmentId(i as u32);
            let gw = t.transit_gateway(a.transit_gateway);
            match &a.kind {
                TgwAttachmentKind::Vpc {
                    vpc,
                    subnets,
                    appliance_mode,
                    ..
                } => {
                    let mut x = Text::new("transit_gateway_vpc_attachment");
                    x.string("name", &a.name);
                    x.string("transit_gateway", &gw.name);
                    x.string("vpc", self.vpc_name(*vpc));
                    x.strings("subnets", subnets.iter().map(|&s| self.subnet_name(s)));
                    if *appliance_mode {
                        x.string("appliance_mode_support", "enable");
                    }
                    let owner = &t.vpc(*vpc).owner_id;
                    let default = if *owner == gw.owner_id || gw.auto_accept_shared_attachments {
                        AttachmentStatus::Available
                    } else {
                        AttachmentStatus::PendingAcceptance
                    };
                    if a.status != default {
                        x.string("status", a.status.aws_name());
                    }
                    let (association, propagation) = self.declined_defaults(id);
                    if association {
                        x.string("default_route_table_association", "disable");
                    }
                    if propagation {
                        x.string("default_route_table_propagation", "disable");
                    }
                    out.push(self.table("transit_gateway_vpc_attachment", &a.name, x));
                }
                TgwAttachmentKind::Peering { peer } => {
                    let mut x = Text::new("transit_gateway_peering_attachment");
                    x.string("name", &a.name);
                    x.string("transit_gateway", &gw.name);
                    let peer = t.transit_gateway(*peer);
                    x.string("peer_transit_gateway", &peer.name);
                    let default = AttachmentStatus::new_between(peer.owner_id == gw.owner_id);
                    if a.status != default {
                        x.string("status", a.status.aws_name());
                    }
                    out.push(self.table("transit_gateway_peering_attachment", &a.name, x));
                }
            }
        }
    }

    /// Whether VPC attachment `a` declines its gateway's default association and
    /// default propagation: the gateway has the option, the attachment is not
    /// deleted, and it is associated with no table of the gateway (propagates not
    /// into the default table).
    fn declined_defaults(&self, a: TgwAttachmentId) -> (bool, bool) {
        let t = self.t;
        let att = t.tgw_attachment(a);
        let gw = t.transit_gateway(att.transit_gateway);
        if att.status == AttachmentStatus::Deleted {
            return (false, false);
        }
        let association = gw.default_route_table_association
            && t.tgw_association_on(a, att.transit_gateway).is_none();
        let propagation = gw.default_route_table_propagation
            && gw
                .default_route_table
                .is_some_and(|d| !t.tgw_route_table(d).propagations.contains(&a));
        (association, propagation)
    }

    /// How many of `list`, the associations (`association`) or propagations of
    /// transit gateway route table `table`, are written: the others are what the
    /// parser gives a default table when the gateway's option is enabled, the longest
    /// run at the end of the list of VPC attachments of the gateway that are not
    /// deleted, in the order of the attachments.
    fn explicit_len(
        &self,
        table: &TgwRouteTable,
        list: &[TgwAttachmentId],
        association: bool,
    ) -> usize {
        let t = self.t;
        let gw = t.transit_gateway(table.transit_gateway);
        let option = if association {
            gw.default_route_table_association
        } else {
            gw.default_route_table_propagation
        };
        if !table.default || !option {
            return list.len();
        }
        let by_default = |a: TgwAttachmentId| {
            let att = t.tgw_attachment(a);
            att.transit_gateway == table.transit_gateway
                && att.vpc().is_some()
                && att.status != AttachmentStatus::Deleted
        };
        let mut k = list.len();
        while k > 0 && by_default(list[k - 1]) && list.get(k).is_none_or(|&next| list[k - 1] < next)
        {
            k -= 1;
        }
        k
    }

    /// The transit gateway whose implicit default table transit gateway route table
    /// `i` is, if it is exactly that: its gateway's default table, named
    /// `<gateway>-default`, with no static route and only the associations and
    /// propagations it gets by default.
    fn implicit_default_table(&self, i: usize) -> Option<u32> {
        let t = self.t;
        let rt = &t.tgw_route_tables[i];
        let plain = rt.default
            && rt.name == format!("{}-default", t.transit_gateway(rt.transit_gateway).name)
            && rt.routes.is_empty()
            && self.explicit_len(rt, &rt.associations, true) == 0
            && self.explicit_len(rt, &rt.propagations, false) == 0;
        plain.then_some(rt.transit_gateway.0)
    }

    fn resource_shares(&self, out: &mut Vec<Table>) {
        let t = self.t;
        for s in &t.resource_shares {
            let mut x = Text::new("resource_share");
            x.string("name", &s.name);
            let resources = s.resources.iter().map(|&g| &t.transit_gateway(g).name);
            x.strings("resources", resources);
            x.strings("principals", &s.principals);
            out.push(self.table("resource_share", &s.name, x));
        }
    }

    fn tgw_route_tables(&self, out: &mut Vec<Table>) {
        let t = self.t;
        let skip = implicit_suffix(t.tgw_route_tables.len(), |i| self.implicit_default_table(i));
        for (i, rt) in t.tgw_route_tables.iter().enumerate() {
            let name = |&a: &TgwAttachmentId| &t.tgw_attachment(a).name;
            let mut x = Text::new("transit_gateway_route_table");
            x.string("name", &rt.name);
            x.string(
                "transit_gateway",
                &t.transit_gateway(rt.transit_gateway).name,
            );
            if rt.default {
                x.key("default", true);
            }
            let k = self.explicit_len(rt, &rt.associations, true);
            x.strings("associations", rt.associations[..k].iter().map(name));
            let k = self.explicit_len(rt, &rt.propagations, false);
            x.strings("propagations", rt.propagations[..k].iter().map(name));
            let routes = rt
                .routes
                .iter()
                .map(|r| {
                    let mut e = Inline::default();
                    e.string("destination", r.destination);
                    match r.target {
                        TgwRouteTarget::Attachment(a) => {
                            e.string("transit_gateway_attachment", &t.tgw_attachment(a).name)
                        }
                        TgwRouteTarget::Blackhole => e.key("blackhole", true),
                    };
                    e
                })
                .collect();
            x.inline_tables("route", routes);
            let mut table = self.table("transit_gateway_route_table", &rt.name, x);
            table.written = !skip[i];
            out.push(table);
        }
    }

    fn multicast_domains(&self, out: &mut Vec<Table>) {
        let t = self.t;
        for d in &t.multicast_domains {
            let mut x = Text::new("transit_gateway_multicast_domain");
            x.string("name", &d.name);
            x.string(
                "transit_gateway",
                &t.transit_gateway(d.transit_gateway).name,
            );
            if d.igmpv2 {
                x.string("igmpv2_support", "enable");
            }
            // Consecutive subnets of one attachment in one entry.
            let mut groups: Vec<(TgwAttachmentId, Vec<SubnetId>)> = Vec::new();
            for &(a, s) in &d.associations {
                match groups.last_mut() {
                    Some((last, subnets)) if *last == a => subnets.push(s),
                    _ => groups.push((a, vec![s])),
                }
            }
            let associations = groups
                .into_iter()
                .map(|(a, subnets)| {
                    let names: Vec<String> = subnets
                        .iter()
                        .map(|&s| quote(self.subnet_name(s)))
                        .collect();
                    let mut e = Inline::default();
                    e.string("transit_gateway_attachment", &t.tgw_attachment(a).name)
                        .key("subnets", format!("[{}]", names.join(", ")));
                    e
                })
                .collect();
            x.inline_tables("associations", associations);
            for (key, list) in [("group_members", &d.members), ("group_sources", &d.sources)] {
                let entries = list
                    .iter()
                    .map(|&(group, e)| {
                        let mut entry = Inline::default();
                        entry
                            .string("group_ip_address", group)
                            .string("network_interface", self.eni_name(e));
                        entry
                    })
                    .collect();
                x.inline_tables(key, entries);
            }
            out.push(self.table("transit_gateway_multicast_domain", &d.name, x));
        }
    }

    /// One `[tags."<id>"]` table per tagged resource, in ID order, keys in order.
    fn tags(&self, out: &mut Vec<Table>) {
        for (id, tags) in &self.t.tags {
            let mut x = Text(format!("[tags.{}]\n", quote(id)));
            for (key, value) in tags {
                x.string(&quote(key), value);
            }
            out.push(Table {
                kind: "tags",
                name: id.clone(),
                vpc: None,
                text: x.0,
                written: true,
            });
        }
    }

    fn limits(&self, out: &mut Vec<Table>) {
        let l = self.t.limits;
        let d = TableLimits::default();
        let mut x = Text("[limits]\n".to_owned());
        for (key, value, default) in [
            (
                "conntrack_per_eni",
                l.conntrack_per_eni,
                d.conntrack_per_eni,
            ),
            ("nat_per_gateway", l.nat_per_gateway, d.nat_per_gateway),
            ("fragments", l.fragments, d.fragments),
            ("flow_log_records", l.flow_log_records, d.flow_log_records),
        ] {
            if value != default {
                x.key(key, value);
            }
        }
        out.push(Table {
            kind: "limits",
            name: String::new(),
            vpc: None,
            text: x.0,
            written: l != d,
        });
    }
}

/// The port or ICMP keys of a rule (none for every port, type and code).
fn l4(e: &mut Inline, m: L4Match) {
    match m {
        L4Match::Any => {}
        L4Match::Ports(p) if p.from == p.to => {
            e.key("port", p.from);
        }
        L4Match::Ports(p) => {
            e.key("from_port", p.from).key("to_port", p.to);
        }
        L4Match::Icmp { icmp_type, code } => {
            if let Some(ty) = icmp_type {
                e.key("icmp_type", ty);
            }
            if let Some(code) = code {
                e.key("icmp_code", code);
            }
        }
    }
}

/// A network ACL entry: number, protocol, action, block, ports or ICMP.
fn nacl_rule(r: &NaclRule) -> Inline {
    let mut e = Inline::default();
    e.key("rule_number", r.number)
        .string("protocol", r.protocol)
        .string("action", r.action)
        .string("cidr", r.cidr);
    l4(&mut e, r.l4);
    e
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::path::Path;

    use super::to_toml;
    use crate::edit::tests::{fabric, topology};
    use crate::{ConfigError, Topology, parse};

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> ipnet::Ipv4Net {
        s.parse().unwrap()
    }

    /// Checks that `t` written and read back is `t`, and that every key written
    /// matters: the file without any one of its lines (a key, a rule, a route...) is
    /// invalid or another topology. Addresses are the exception: an allocated one is
    /// written too, and reads back the same without its line.
    fn round_trip(label: &str, t: &Topology) {
        let text = to_toml(t);
        let back = parse(&text, label)
            .unwrap_or_else(|e| panic!("{label}: the written file is invalid:\n{e}\n{text}"));
        assert_eq!(back, *t, "{label}: read back differently from\n{text}");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some((key, _)) = line.split_once(" = ") else {
                continue;
            };
            if matches!(key, "private_ip" | "private_ips") {
                continue;
            }
            let mut without = lines.clone();
            without.remove(i);
            if let Ok(other) = parse(&without.join("\n"), label) {
                assert_ne!(
                    other,
                    *t,
                    "{label}: line {} `{line}` changes nothing:\n{text}",
                    i + 1
                );
            }
        }
    }

    /// The `*.toml` files of `dir` (relative to the repository), with their text.
    fn files(dir: &str) -> Vec<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir);
        let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| {
                (
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_demo_reads_back() {
        round_trip("demo", &Topology::demo());
    }

    #[test]
    fn every_example_reads_back() {
        let examples = files("config");
        assert!(examples.len() >= 11, "{examples:?}");
        for (path, text) in examples {
            let t = parse(&text, &path).unwrap_or_else(|e| panic!("{e}"));
            round_trip(&path, &t);
        }
    }

    #[test]
    fn every_valid_daemon_fixture_reads_back() {
        // The daemon's fixtures are files `vpcd check` must refuse; a valid one (none
        // today) must read back like any other.
        let mut invalid = 0;
        for (path, text) in files("crates/daemon/tests/fixtures") {
            match parse(&text, &path) {
                Ok(t) => round_trip(&path, &t),
                Err(ConfigError::Invalid(_)) => invalid += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(invalid >= 3);
    }

    /// A file with every key the examples leave at its default set otherwise, and
    /// text that needs escaping.
    const EVERYTHING: &str = r#"
[[vpc]]
name = "v"
cidr = "10.0.0.0/16"
secondary_cidrs = ["10.1.0.0/16"]
owner_id = "111122223333"
region = "eu-west-1"
enable_dns_support = false
enable_dns_hostnames = true
enable_network_address_usage_metrics = true

[[subnet]]
name = "s"
vpc = "v"
cidr = "10.0.1.0/24"
az = "zone \"a\" \\ é\t"
map_public_ip_on_launch = true

[[instance]]
name = "i"
subnet = "s"
source_dest_check = false
public_ip = "203.0.113.7"
security_groups = ["open", "default"]
connection_tracking = { tcp_established_timeout = 60, udp_stream_timeout = 61, udp_timeout = 31 }

[[instance.eni]]
subnet = "s"
private_ip = "10.0.1.200"
source_dest_check = false
security_groups = ["open"]

[[security_group]]
name = "default"
vpc = "v"
ingress = []

[[security_group]]
name = "open"
vpc = "v"
description = "open \"to\" all"
egress = []
ingress = [{ protocol = "47", cidr = "10.0.0.0/8", description = "gre\nline two" }, { protocol = "icmp", icmp_type = 0, cidr = "0.0.0.0/0" }]

[[network_acl]]
name = "default"
vpc = "v"
egress = []

[[elastic_ip]]
name = "198.51.100.99"
address = "198.51.100.5"

[[elastic_ip]]
address = "198.51.100.6"
network_interface = "i/eth1"

[[nat_gateway]]
name = "n"
subnet = "s"
elastic_ips = ["198.51.100.5"]
source_ports = "2000"

[[transit_gateway]]
name = "theirs"
owner_id = "444455556666"
region = "eu-west-1"
amazon_side_asn = 4200000000
default_route_table_association = "disable"
auto_accept_shared_attachments = "enable"
multicast_support = "enable"
description = "the \"shared\" hub"

[[resource_share]]
name = "share"
resources = ["theirs"]
principals = ["111122223333"]

[[transit_gateway_vpc_attachment]]
name = "att"
transit_gateway = "theirs"
vpc = "v"
subnets = ["s"]
appliance_mode_support = "enable"

[[transit_gateway_multicast_domain]]
name = "md"
transit_gateway = "theirs"
igmpv2_support = "enable"
associations = [{ transit_gateway_attachment = "att", subnets = ["s"] }]
group_sources = [{ group_ip_address = "239.0.0.1", network_interface = "i/eth1" }]

[[flow_log]]
name = "f"
network_interface = "i/eth1"
log_destination = "/var/log/\"f\".log"
log_destination_type = "cloud-watch-logs"
log_destination_arn = "arn:aws:logs:us-east-1:123456789012:log-group:g"
deliver_logs_permission_arn = "arn:aws:iam::123456789012:role/r"

[[route_table]]
name = "vpn-rt"
vpc = "v"
propagating_vgws = ["vgw"]
route = [{ destination = "172.16.0.0/12", vpn_gateway = "vgw" }]

[[vpn_gateway]]
name = "vgw"
type = "ipsec.1"
amazon_side_asn = 65010
vpc = "v"
availability_zone = "zone-a"

[[customer_gateway]]
name = "cgw"
ip_address = "203.0.113.99"
bgp_asn = 4200000000
type = "ipsec.1"
device_name = "edge \"1\""

[limits]
conntrack_per_eni = 1
nat_per_gateway = 2
fragments = 3
flow_log_records = 4

[tags."vpc-0123456789abcdef0"]
Name = "main \"vpc\""
"kubernetes.io/cluster/x" = "owned"
empty = ""

[tags.subnet-0123456789abcdef0]
Tier = "private"
"#;

    #[test]
    fn every_key_reads_back() {
        let t = parse(EVERYTHING, "everything").unwrap_or_else(|e| panic!("{e}"));
        round_trip("everything", &t);
        let text = to_toml(&t);
        assert!(
            text.contains("az = \"zone \\\"a\\\" \\\\ é\\t\"\n"),
            "{text}"
        );
        assert!(
            text.contains("elastic_ips = [\"198.51.100.5\"]\n"),
            "{text}"
        );
        assert!(text.contains("[limits]\nconntrack_per_eni = 1\nnat_per_gateway = 2\nfragments = 3\nflow_log_records = 4\n"), "{text}");
        assert!(
            text.ends_with(
                "[tags.\"subnet-0123456789abcdef0\"]\n\"Tier\" = \"private\"\n\n[tags.\"vpc-0123456789abcdef0\"]\n\"Name\" = \"main \\\"vpc\\\"\"\n\"empty\" = \"\"\n\"kubernetes.io/cluster/x\" = \"owned\"\n"
            ),
            "{text}"
        );
    }

    /// A change at run time, on the topology it applies to.
    type Edit = (&'static str, fn() -> Topology, fn(&mut Topology));

    /// Every change the control socket makes, alone or in the sequences that reach
    /// the states only the API reaches (deleted, pending, declined defaults...).
    const EDITS: &[Edit] = &[
        ("unchanged", topology, |_| {}),
        ("delete a public NAT gateway", topology, |t| {
            t.delete_nat_gateway("nat-a").unwrap();
        }),
        ("delete a private NAT gateway", topology, |t| {
            t.delete_nat_gateway("hidden").unwrap();
        }),
        ("detach an internet gateway", topology, |t| {
            t.detach_internet_gateway("igw").unwrap();
        }),
        ("attach a detached internet gateway", topology, |t| {
            t.attach_internet_gateway("spare-igw", "other").unwrap();
        }),
        ("move an internet gateway to another VPC", topology, |t| {
            t.detach_internet_gateway("igw").unwrap();
            t.attach_internet_gateway("igw", "other").unwrap();
        }),
        ("allocate an Elastic IP", topology, |t| {
            t.allocate_address(ip("198.51.100.50")).unwrap();
        }),
        (
            "allocate an Elastic IP whose name is taken",
            topology,
            |t| {
                let id = t.allocate_address(ip("198.51.100.50")).unwrap();
                t.elastic_ips[id.index()].name = "eip-198-51-100-51".into();
                t.allocate_address(ip("198.51.100.51")).unwrap();
            },
        ),
        ("release an Elastic IP", topology, |t| {
            t.release_address(ip("198.51.100.30")).unwrap();
        }),
        ("associate an Elastic IP", topology, |t| {
            t.associate_address(ip("198.51.100.30"), "stranger")
                .unwrap();
        }),
        ("associate an Elastic IP over a public IP", topology, |t| {
            t.associate_address(ip("198.51.100.30"), "app/eth0")
                .unwrap();
        }),
        ("disassociate an Elastic IP", topology, |t| {
            t.disassociate_address(ip("198.51.100.10")).unwrap();
        }),
        ("disassociate and release", topology, |t| {
            t.disassociate_address(ip("198.51.100.10")).unwrap();
            t.release_address(ip("198.51.100.10")).unwrap();
        }),
        ("disassociate a gateway route table", topology, |t| {
            t.disassociate_route_table_gateway("edge-rt", "igw")
                .unwrap();
        }),
        (
            "make the implicit main table a gateway route table",
            topology,
            |t| {
                t.disassociate_route_table_gateway("edge-rt", "igw")
                    .unwrap();
                t.associate_route_table_gateway("demo-main", "igw").unwrap();
            },
        ),
        ("replace a local route's target", topology, |t| {
            t.replace_local_route_target("public-rt", net("10.0.0.0/16"), Some("app"))
                .unwrap();
        }),
        (
            "replace a local route's target in the last implicit table",
            topology,
            |t| {
                t.replace_local_route_target("other-main", net("10.10.0.0/16"), Some("stranger"))
                    .unwrap();
            },
        ),
        (
            "replace a local route's target in an earlier implicit table",
            topology,
            |t| {
                t.replace_local_route_target("demo-main", net("10.0.0.0/16"), Some("db"))
                    .unwrap();
            },
        ),
        (
            "replace and restore a local route's target",
            topology,
            |t| {
                t.replace_local_route_target("other-main", net("10.9.0.0/16"), Some("stranger"))
                    .unwrap();
                t.replace_local_route_target("other-main", net("10.9.0.0/16"), None)
                    .unwrap();
            },
        ),
        ("unchanged fabric", fabric, |_| {}),
        ("create a peering connection across accounts", fabric, |t| {
            t.create_vpc_peering_connection("a-c", "a", "c").unwrap();
        }),
        ("accept a peering connection", fabric, |t| {
            t.accept_vpc_peering_connection("b-c").unwrap();
        }),
        ("reject a peering connection", fabric, |t| {
            t.delete_vpc_peering_connection("b-c").unwrap();
        }),
        ("delete a peering connection and peer again", fabric, |t| {
            t.delete_vpc_peering_connection("a-b").unwrap();
            t.create_vpc_peering_connection("b-a", "b", "a").unwrap();
        }),
        ("enable a propagation", fabric, |t| {
            t.enable_tgw_route_table_propagation("rt", "att-a").unwrap();
        }),
        ("disable a default propagation", fabric, |t| {
            t.disable_tgw_route_table_propagation("tgw-default", "att-a")
                .unwrap();
        }),
        ("disable and enable a default propagation", fabric, |t| {
            t.disable_tgw_route_table_propagation("tgw-default", "att-a")
                .unwrap();
            t.enable_tgw_route_table_propagation("tgw-default", "att-a")
                .unwrap();
        }),
        ("disable an explicit propagation", fabric, |t| {
            t.disable_tgw_route_table_propagation("rt", "att-b")
                .unwrap();
        }),
        ("disassociate an explicit association", fabric, |t| {
            t.disassociate_tgw_route_table("rt", "att-a").unwrap();
        }),
        ("disassociate a default association", fabric, |t| {
            t.disassociate_tgw_route_table("tgw-default", "att-b")
                .unwrap();
        }),
        (
            "associate with the default table out of order",
            fabric,
            |t| {
                t.disassociate_tgw_route_table("rt", "att-a").unwrap();
                t.associate_tgw_route_table("tgw-default", "att-a").unwrap();
            },
        ),
        (
            "associate a peering attachment on both gateways",
            fabric,
            |t| {
                t.associate_tgw_route_table("rt", "tp").unwrap();
                t.associate_tgw_route_table("tgw2-rt", "tp").unwrap();
                t.associate_tgw_route_table("tgw-default", "att-a")
                    .expect_err("att-a is rt's");
            },
        ),
        (
            "associate a peering attachment with a default table",
            fabric,
            |t| {
                t.associate_tgw_route_table("tgw-default", "tp").unwrap();
            },
        ),
        ("create static routes", fabric, |t| {
            t.create_tgw_route("rt", net("0.0.0.0/0"), Some("tp"))
                .unwrap();
            t.create_tgw_route("rt", net("10.3.0.0/16"), Some("att-c"))
                .unwrap();
            t.create_tgw_route("tgw-default", net("10.50.0.0/16"), None)
                .unwrap();
        }),
        ("delete a static route", fabric, |t| {
            t.delete_tgw_route("rt", net("10.9.0.0/16")).unwrap();
        }),
        ("accept an attachment", fabric, |t| {
            t.accept_tgw_attachment("att-c").unwrap();
        }),
        ("delete VPC and peering attachments", fabric, |t| {
            t.create_tgw_route("rt", net("0.0.0.0/0"), Some("tp"))
                .unwrap();
            t.create_tgw_route("rt", net("10.2.0.0/16"), Some("att-b"))
                .unwrap();
            t.delete_tgw_attachment("att-b").unwrap();
            t.delete_tgw_attachment("tp").unwrap();
            t.delete_tgw_attachment("att-c").unwrap();
        }),
        (
            "register and deregister multicast members and sources",
            fabric,
            |t| {
                t.register_multicast_group_members("md", ip("239.1.1.1"), "pa2")
                    .unwrap();
                t.register_multicast_group_members("md", ip("239.2.2.2"), "pa")
                    .unwrap();
                t.register_multicast_group_sources("md", ip("239.1.1.1"), "pa2/eth0")
                    .unwrap();
                t.deregister_multicast_group_members("md", ip("239.1.1.1"), "pa")
                    .unwrap();
            },
        ),
        ("deregister the last member", fabric, |t| {
            t.deregister_multicast_group_members("md", ip("239.1.1.1"), "pa")
                .unwrap();
        }),
        ("detach a VPN gateway: its route is blackhole", vpn, |t| {
            t.detach_vpn_gateway("vgw", "corp").unwrap();
        }),
        ("create, attach, propagate", vpn, |t| {
            t.detach_vpn_gateway("vgw", "corp").unwrap();
            t.create_vpn_gateway("new", Some(4_200_000_000), Some("a"))
                .unwrap();
            t.attach_vpn_gateway("new", "corp").unwrap();
            t.enable_vgw_route_propagation("app-rt", "new").unwrap();
        }),
        ("create customer gateways, delete one", vpn, |t| {
            t.create_customer_gateway("dc", ip("198.51.100.90"), None, None)
                .unwrap();
            t.create_customer_gateway("dc2", ip("198.51.100.91"), None, None)
                .unwrap();
            t.delete_customer_gateway("dc").unwrap();
            assert!(t.delete_customer_gateway("hq").is_err());
        }),
        ("disable propagation", vpn, |t| {
            t.disable_vgw_route_propagation("app-rt", "vgw").unwrap();
        }),
    ];

    /// config/vpn.toml.
    fn vpn() -> Topology {
        parse(include_str!("../../../config/vpn.toml"), "vpn.toml").unwrap()
    }

    #[test]
    fn every_change_at_run_time_reads_back() {
        for (label, base, edit) in EDITS {
            let mut t = base();
            edit(&mut t);
            round_trip(label, &t);
        }
    }
}
