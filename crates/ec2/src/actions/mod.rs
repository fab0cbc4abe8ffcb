//! The actions: dispatch by name, and what they share: the caller's view (its account
//! and region decide which VPCs it sees and owns), tags as shown, names of new
//! resources, and committing a change.
//!
//! A change is made on the configuration: either on a copy of the topology (tags,
//! attributes, internet gateway attachment through `vpc_config::edit`), or, for
//! resources that come and go, on the TOML document `vpc_config::to_toml` writes (a new
//! `[[vpc]]` table; a deleted subnet's table and its associations). Either way the
//! result is written and parsed again by `vpc_config`, so a topology the API returns
//! passed every check a configuration file passes and reads back from its own file
//! unchanged. A check that fails there is `InvalidParameterValue` with vpc-config's
//! message.

mod addresses;
mod dhcp;
mod endpoints;
mod flow_logs;
mod igws;
mod images;
mod info;
mod instances;
mod interfaces;
pub mod metadata;
mod nat;
mod network_acls;
mod peering;
mod route_tables;
mod security_groups;
mod subnets;
mod tags;
mod transit;
mod vpcs;
mod vpn;

pub use interfaces::{private_dns, public_dns};

use vpc_config::{Topology, VpcId};

use crate::Api;
use crate::error::ApiError;
use crate::ids::{self, Kind};
use crate::params::Params;
use crate::sigv4::Caller;

/// One request being answered.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The running topology.
    pub t: &'a Topology,
    /// The request's parameters.
    pub p: &'a Params,
    /// Who signed it (account, region).
    pub caller: &'a Caller,
    /// The API (for fresh IDs).
    pub api: &'a Api,
    /// The request's time (launch and termination times).
    pub now: std::time::SystemTime,
}

/// What an action answers: the XML inside the response element, and the changed
/// topology if it changed one.
#[derive(Debug)]
pub struct Outcome {
    /// The result's XML (the elements after `requestId`).
    pub xml: String,
    /// The new topology, for a mutating action.
    pub topology: Option<Topology>,
}

impl Outcome {
    fn read(xml: String) -> Result<Outcome, ApiError> {
        Ok(Outcome {
            xml,
            topology: None,
        })
    }

    fn changed(xml: String, t: Topology) -> Result<Outcome, ApiError> {
        Ok(Outcome {
            xml,
            topology: Some(t),
        })
    }

    /// `<return>true</return>`, AWS's answer to an action without a result.
    fn done(t: Topology) -> Result<Outcome, ApiError> {
        Outcome::changed("<return>true</return>".to_owned(), t)
    }
}

/// Runs EC2 action `action`.
pub fn ec2(ctx: &Ctx<'_>, action: &str) -> Result<Outcome, ApiError> {
    match action {
        "DescribeAvailabilityZones" => info::describe_availability_zones(ctx),
        "DescribeRegions" => info::describe_regions(ctx),
        "CreateVpc" => vpcs::create(ctx),
        "DescribeVpcs" => vpcs::describe(ctx),
        "DeleteVpc" => vpcs::delete(ctx),
        "DescribeVpcAttribute" => vpcs::describe_attribute(ctx),
        "ModifyVpcAttribute" => vpcs::modify_attribute(ctx),
        "CreateSubnet" => subnets::create(ctx),
        "DescribeSubnets" => subnets::describe(ctx),
        "DeleteSubnet" => subnets::delete(ctx),
        "ModifySubnetAttribute" => subnets::modify_attribute(ctx),
        "CreateTags" => tags::create(ctx),
        "DeleteTags" => tags::delete(ctx),
        "DescribeTags" => tags::describe(ctx),
        "CreateInternetGateway" => igws::create(ctx),
        "AttachInternetGateway" => igws::attach(ctx),
        "DetachInternetGateway" => igws::detach(ctx),
        "DescribeInternetGateways" => igws::describe(ctx),
        "DeleteInternetGateway" => igws::delete(ctx),
        "CreateSecurityGroup" => security_groups::create(ctx),
        "DescribeSecurityGroups" => security_groups::describe(ctx),
        "DeleteSecurityGroup" => security_groups::delete(ctx),
        "AuthorizeSecurityGroupIngress" => security_groups::authorize_ingress(ctx),
        "AuthorizeSecurityGroupEgress" => security_groups::authorize_egress(ctx),
        "RevokeSecurityGroupIngress" => security_groups::revoke_ingress(ctx),
        "RevokeSecurityGroupEgress" => security_groups::revoke_egress(ctx),
        "DescribeSecurityGroupRules" => security_groups::describe_rules(ctx),
        "ModifySecurityGroupRules" => security_groups::modify_rules(ctx),
        "CreateNetworkAcl" => network_acls::create(ctx),
        "DescribeNetworkAcls" => network_acls::describe(ctx),
        "DeleteNetworkAcl" => network_acls::delete(ctx),
        "CreateNetworkAclEntry" => network_acls::create_entry(ctx),
        "ReplaceNetworkAclEntry" => network_acls::replace_entry(ctx),
        "DeleteNetworkAclEntry" => network_acls::delete_entry(ctx),
        "ReplaceNetworkAclAssociation" => network_acls::replace_association(ctx),
        "CreateRouteTable" => route_tables::create(ctx),
        "DescribeRouteTables" => route_tables::describe(ctx),
        "DeleteRouteTable" => route_tables::delete(ctx),
        "CreateRoute" => route_tables::create_route(ctx),
        "ReplaceRoute" => route_tables::replace_route(ctx),
        "DeleteRoute" => route_tables::delete_route(ctx),
        "AssociateRouteTable" => route_tables::associate(ctx),
        "DisassociateRouteTable" => route_tables::disassociate(ctx),
        "ReplaceRouteTableAssociation" => route_tables::replace_association(ctx),
        "AllocateAddress" => addresses::allocate(ctx),
        "DescribeAddresses" => addresses::describe(ctx),
        "AssociateAddress" => addresses::associate(ctx),
        "DisassociateAddress" => addresses::disassociate(ctx),
        "ReleaseAddress" => addresses::release(ctx),
        "DescribeAddressesAttribute" => addresses::describe_attribute(ctx),
        "CreateVpnGateway" => vpn::create_vpn_gateway(ctx),
        "DescribeVpnGateways" => vpn::describe_vpn_gateways(ctx),
        "AttachVpnGateway" => vpn::attach_vpn_gateway(ctx),
        "DetachVpnGateway" => vpn::detach_vpn_gateway(ctx),
        "DeleteVpnGateway" => vpn::delete_vpn_gateway(ctx),
        "CreateCustomerGateway" => vpn::create_customer_gateway(ctx),
        "DescribeCustomerGateways" => vpn::describe_customer_gateways(ctx),
        "DeleteCustomerGateway" => vpn::delete_customer_gateway(ctx),
        "EnableVgwRoutePropagation" => vpn::enable_propagation(ctx),
        "DisableVgwRoutePropagation" => vpn::disable_propagation(ctx),
        "CreateVpnConnection" => vpn::create_vpn_connection(ctx),
        "DescribeVpnConnections" => vpn::describe_vpn_connections(ctx),
        "DeleteVpnConnection" => vpn::delete_vpn_connection(ctx),
        "CreateVpnConnectionRoute" => vpn::create_vpn_connection_route(ctx),
        "DeleteVpnConnectionRoute" => vpn::delete_vpn_connection_route(ctx),
        "CreateVpcEndpoint" => endpoints::create(ctx),
        "DescribeVpcEndpoints" => endpoints::describe(ctx),
        "ModifyVpcEndpoint" => endpoints::modify(ctx),
        "DeleteVpcEndpoints" => endpoints::delete(ctx),
        "DescribeVpcEndpointServices" => endpoints::describe_services(ctx),
        "DescribePrefixLists" => endpoints::describe_prefix_lists(ctx),
        "DescribeManagedPrefixLists" => endpoints::describe_managed_prefix_lists(ctx),
        "GetManagedPrefixListEntries" => endpoints::get_managed_prefix_list_entries(ctx),
        "CreateNatGateway" => nat::create(ctx),
        "DescribeNatGateways" => nat::describe(ctx),
        "DeleteNatGateway" => nat::delete(ctx),
        "DescribeImages" => images::describe_images(ctx),
        "DescribeInstanceTypes" => images::describe_instance_types(ctx),
        "GetInstanceUefiData" => images::get_instance_uefi_data(ctx),
        "RunInstances" => instances::run(ctx),
        "DescribeInstances" => instances::describe(ctx),
        "DescribeInstanceStatus" => instances::describe_status(ctx),
        "DescribeInstanceAttribute" => instances::describe_attribute(ctx),
        "ModifyInstanceAttribute" => instances::modify_attribute(ctx),
        "ModifyInstanceMetadataOptions" => metadata::modify(ctx),
        "TerminateInstances" => instances::terminate(ctx),
        "DescribeVolumes" => instances::describe_volumes(ctx),
        "DescribeInstanceCreditSpecifications" => instances::describe_credit_specifications(ctx),
        "DescribeNetworkInterfaces" => interfaces::describe(ctx),
        "ModifyNetworkInterfaceAttribute" => interfaces::modify_attribute(ctx),
        "CreateVpcPeeringConnection" => peering::create(ctx),
        "AcceptVpcPeeringConnection" => peering::accept(ctx),
        "DescribeVpcPeeringConnections" => peering::describe(ctx),
        "DeleteVpcPeeringConnection" => peering::delete(ctx),
        "ModifyVpcPeeringConnectionOptions" => peering::modify_options(ctx),
        "CreateTransitGateway" => transit::create_tgw(ctx),
        "DescribeTransitGateways" => transit::describe_tgws(ctx),
        "DeleteTransitGateway" => transit::delete_tgw(ctx),
        "CreateTransitGatewayRouteTable" => transit::create_table(ctx),
        "DescribeTransitGatewayRouteTables" => transit::describe_tables(ctx),
        "DeleteTransitGatewayRouteTable" => transit::delete_table(ctx),
        "CreateTransitGatewayVpcAttachment" => transit::create_attachment(ctx),
        "DescribeTransitGatewayVpcAttachments" => transit::describe_attachments(ctx),
        "DeleteTransitGatewayVpcAttachment" => transit::delete_attachment(ctx),
        "AcceptTransitGatewayVpcAttachment" => transit::accept_attachment(ctx),
        "ModifyTransitGatewayVpcAttachment" => transit::modify_attachment(ctx),
        "AssociateTransitGatewayRouteTable" => transit::associate(ctx),
        "DisassociateTransitGatewayRouteTable" => transit::disassociate(ctx),
        "GetTransitGatewayRouteTableAssociations" => transit::get_associations(ctx),
        "EnableTransitGatewayRouteTablePropagation" => transit::enable_propagation(ctx),
        "DisableTransitGatewayRouteTablePropagation" => transit::disable_propagation(ctx),
        "GetTransitGatewayRouteTablePropagations" => transit::get_propagations(ctx),
        "CreateTransitGatewayRoute" => transit::create_route(ctx),
        "DeleteTransitGatewayRoute" => transit::delete_route(ctx),
        "SearchTransitGatewayRoutes" => transit::search_routes(ctx),
        "CreateFlowLogs" => flow_logs::create(ctx),
        "DescribeFlowLogs" => flow_logs::describe(ctx),
        "DeleteFlowLogs" => flow_logs::delete(ctx),
        "CreateDhcpOptions" => dhcp::create(ctx),
        "DescribeDhcpOptions" => dhcp::describe(ctx),
        "DeleteDhcpOptions" => dhcp::delete(ctx),
        "AssociateDhcpOptions" => dhcp::associate(ctx),
        other => Err(ApiError::invalid_action(other)),
    }
}

/// Runs STS action `action`.
pub fn sts(ctx: &Ctx<'_>, action: &str) -> Result<Outcome, ApiError> {
    match action {
        "GetCallerIdentity" => info::get_caller_identity(ctx),
        other => Err(ApiError::invalid_action(other)),
    }
}

impl Ctx<'_> {
    /// Whether the caller sees VPC `v`: it is the caller's account's, in the request's
    /// region.
    pub fn sees_vpc(&self, v: VpcId) -> bool {
        let vpc = self.t.vpc(v);
        vpc.owner_id == self.caller.account && vpc.region == self.caller.region
    }

    /// The resources of `kind` a `Describe*` answers: those named in list parameter
    /// `param`, in order, once each (each one the caller sees, else its `.NotFound`);
    /// without any, every one of the `count` the caller sees.
    pub fn selected(&self, kind: Kind, param: &str, count: usize) -> Result<Vec<usize>, ApiError> {
        let wanted = self.p.strings(param);
        if wanted.is_empty() {
            return Ok((0..count).filter(|&i| self.sees(kind, i)).collect());
        }
        let mut v = Vec::new();
        for id in &wanted {
            let i = self.find(kind, id)?;
            if !v.contains(&i) {
                v.push(i);
            }
        }
        Ok(v)
    }

    /// The index of the resource of `kind` that `id` names and the caller sees,
    /// or `Invalid<Kind>ID.NotFound` (`.Malformed` if it cannot be an ID of `kind`).
    pub fn find(&self, kind: Kind, id: &str) -> Result<usize, ApiError> {
        let found = ids::resolve(self.t, kind, id).filter(|&i| self.sees(kind, i));
        found.ok_or_else(|| not_found(kind, id))
    }

    /// Whether the caller sees resource `i` of `kind`, by the rule its own `Describe*`
    /// action applies: by its VPC; a peering connection by either VPC, a transit
    /// gateway by owner and region, its route tables by the gateway, an attachment by
    /// the gateway or the VPC, a flow log by its resource's VPC, an Elastic IP when
    /// unassociated or associated in the caller's VPCs, a VPN connection like its VPN
    /// gateway; other resources outside VPCs (internet and VPN gateways not attached,
    /// customer gateways) by every caller.
    pub fn sees(&self, kind: Kind, i: usize) -> bool {
        let t = self.t;
        match kind {
            Kind::Vpc => self.sees_vpc(VpcId(i as u32)),
            Kind::Subnet => self.sees_vpc(t.subnets[i].vpc),
            Kind::RouteTable => self.sees_vpc(t.route_tables[i].vpc),
            Kind::SecurityGroup => self.sees_vpc(t.security_groups[i].vpc),
            Kind::NetworkAcl => self.sees_vpc(t.network_acls[i].vpc),
            Kind::InternetGateway => t.internet_gateways[i].vpc.is_none_or(|v| self.sees_vpc(v)),
            Kind::NatGateway => self.sees_vpc(t.subnets[t.nat_gateways[i].subnet.index()].vpc),
            Kind::NetworkInterface => self.sees_vpc(t.eni_vpc(vpc_config::EniId(i as u32))),
            Kind::Instance => t.instances[i]
                .enis
                .first()
                .is_none_or(|&e| self.sees_vpc(t.eni_vpc(e))),
            Kind::TransitGateway => {
                let g = &t.transit_gateways[i];
                g.owner_id == self.caller.account && g.region == self.caller.region
            }
            Kind::PeeringConnection => peering::sees(self, i),
            Kind::TgwRouteTable => transit::sees_table(self, i),
            Kind::TgwAttachment => transit::sees_attachment(self, i),
            Kind::FlowLog => flow_logs::sees(self, i),
            Kind::ElasticIp => addresses::sees(self, i),
            Kind::VpcEndpoint => self.sees_vpc(t.vpc_endpoints[i].vpc),
            Kind::PrefixList => t.aws_services[i].region == self.caller.region,
            Kind::VpnGateway => t.vpn_gateways[i].vpc.is_none_or(|v| self.sees_vpc(v)),
            Kind::VpnConnection => {
                self.sees(Kind::VpnGateway, t.vpn_connections[i].vpn_gateway.index())
            }
            _ => true,
        }
    }

    /// The tags of resource `ident` (identifying name) of `kind` as shown.
    pub fn shown_tags(&self, kind: Kind, ident: &str) -> Vec<(String, String)> {
        shown_tags(self.t, kind, ident)
    }

    /// The tags of `TagSpecification.N` for resource type `kind` (others are refused).
    pub fn tag_specifications(&self, kind: Kind) -> Result<Vec<(String, String)>, ApiError> {
        let mut out = Vec::new();
        for spec in self.p.list("TagSpecification") {
            let ty = spec.str("ResourceType").unwrap_or(kind.resource_type());
            if ty != kind.resource_type() {
                return Err(ApiError::invalid_value(format!(
                    "'{ty}' is not a valid taggable resource type for this operation."
                )));
            }
            for tag in spec.list("Tag") {
                let key = tag.str("Key").ok_or_else(|| {
                    ApiError::missing(
                        "The request must contain the parameter TagSpecification.N.Tag.N.Key",
                    )
                })?;
                out.retain(|(k, _): &(String, String)| k != key);
                out.push((key.to_owned(), tag.str("Value").unwrap_or("").to_owned()));
            }
        }
        Ok(out)
    }

    /// The configuration name of a new resource of `kind` tagged `tags`: its `Name`
    /// tag if that is a valid name no resource of the kind has (`taken` tells for
    /// other constraints), else a fresh ID.
    pub fn new_name(
        &self,
        kind: Kind,
        tags: &[(String, String)],
        taken: impl Fn(&str) -> bool,
    ) -> String {
        let existing = ids::names(self.t, kind);
        let existing: Vec<&str> = existing.iter().map(|n| ids::config_name(kind, n)).collect();
        let existing_ids = ids::ids(self.t, kind);
        if let Some((_, name)) = tags.iter().find(|(k, _)| k == "Name")
            && valid_name(name)
            && !existing.contains(&name.as_str())
            && !existing_ids.contains(name)
            && !taken(name)
        {
            return name.clone();
        }
        loop {
            let h = self.api.fresh_hex(kind.hash_name());
            let id = format!("{}{}", kind.prefix(), &h[..17]);
            if !existing_ids.contains(&id) && !existing.contains(&id.as_str()) && !taken(&id) {
                return id;
            }
        }
    }
}

/// The tags of resource `ident` of `kind` as shown, by every `Describe*` and by
/// `DescribeTags` alike: its tags, with `Name` its configuration name if it has no
/// `Name` tag and the name is not an ID. Security groups, default network ACLs and
/// network interfaces show their tags exactly as set (a group's name is its
/// `GroupName`; Terraform adopts a default ACL and would see a made-up tag as a diff).
pub fn shown_tags(t: &Topology, kind: Kind, ident: &str) -> Vec<(String, String)> {
    let id = ids::id(kind, ident);
    let mut tags: Vec<(String, String)> = t
        .tags
        .get(&id)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let name = ids::config_name(kind, ident);
    if !tags.iter().any(|(k, _)| k == "Name") && !ids::is_id(kind, name) && !as_set(t, kind, ident)
    {
        tags.insert(0, ("Name".to_owned(), name.to_owned()));
    }
    tags
}

/// Whether resource `ident` of `kind` shows its tags exactly as set.
fn as_set(t: &Topology, kind: Kind, ident: &str) -> bool {
    match kind {
        Kind::NetworkInterface | Kind::SecurityGroup => true,
        Kind::NetworkAcl => {
            let names = ids::names(t, kind);
            let i = names.iter().position(|n| n == ident);
            i.is_some_and(|i| t.network_acls[i].default)
        }
        _ => false,
    }
}

/// `Invalid<Kind>ID.NotFound`, or `.Malformed` for a string that cannot be an ID of
/// the kind.
pub fn not_found(kind: Kind, id: &str) -> ApiError {
    if ids::is_well_formed(kind, id) {
        let code = match kind {
            Kind::SecurityGroup => "InvalidGroup.NotFound".to_owned(),
            Kind::NatGateway => "NatGatewayNotFound".to_owned(),
            k => format!("{}.NotFound", k.error_code()),
        };
        ApiError::new(
            code,
            format!("The {} ID '{id}' does not exist", kind.noun()),
        )
    } else {
        ApiError::new(
            format!("{}.Malformed", kind.error_code()),
            format!("Invalid id: \"{id}\" (expecting \"{}...\")", kind.prefix()),
        )
    }
}

/// A name vpc-config accepts: 1 to 48 letters, digits, `-`, `_`, `.`, starting with a
/// letter or digit.
pub fn valid_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= 48
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Validates a changed topology: written and parsed again by vpc-config. What the
/// daemon observed of the VPN connections (never written) is kept, by name.
pub fn commit(t: &Topology) -> Result<Topology, ApiError> {
    let mut back = parse_text(&vpc_config::to_toml(t))?;
    back.keep_live_from(t);
    Ok(back)
}

/// Parses configuration text made by a change; a problem is `InvalidParameterValue`.
fn parse_text(text: &str) -> Result<Topology, ApiError> {
    vpc_config::parse(text, "<api>").map_err(|e| {
        let parts: Vec<String> = e
            .diagnostics()
            .iter()
            .map(|d| {
                if d.field.is_empty() {
                    d.problem.to_string()
                } else {
                    format!("{} {}", d.field, d.problem)
                }
            })
            .collect();
        ApiError::invalid_value(if parts.is_empty() {
            e.to_string()
        } else {
            parts.join("; ")
        })
    })
}

/// Changes the topology's TOML document with `f` and parses the result (keeping what
/// the daemon observed of the VPN connections, as [`commit`] does).
pub fn edit_document(t: &Topology, f: impl FnOnce(&mut toml::Table)) -> Result<Topology, ApiError> {
    let text = vpc_config::to_toml(t);
    let mut doc: toml::Table = toml::from_str(&text)
        .map_err(|e| ApiError::invalid_value(format!("the topology could not be edited: {e}")))?;
    f(&mut doc);
    let text = toml::to_string(&doc)
        .map_err(|e| ApiError::invalid_value(format!("the topology could not be edited: {e}")))?;
    let mut back = parse_text(&text)?;
    back.keep_live_from(t);
    Ok(back)
}

/// The array of tables `kind` of a document (created empty if absent).
pub fn array<'d>(doc: &'d mut toml::Table, kind: &str) -> &'d mut Vec<toml::Value> {
    let v = doc
        .entry(kind.to_owned())
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    if !v.is_array() {
        *v = toml::Value::Array(Vec::new());
    }
    match v {
        toml::Value::Array(a) => a,
        _ => unreachable!("made an array above"),
    }
}

/// The string value of `key` in table `v`.
pub fn key<'v>(v: &'v toml::Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(|x| x.as_str())
}

/// The availability zone as AWS names it: the region and the configuration's zone
/// letter (`us-east-1` and `a`: `us-east-1a`); a zone written otherwise as written.
pub fn az_name(region: &str, az: &str) -> String {
    if az.len() == 1 && az.bytes().all(|b| b.is_ascii_lowercase()) {
        format!("{region}{az}")
    } else {
        az.to_owned()
    }
}

/// The zone ID AWS gives a zone: the region's abbreviation (`use1`) and the zone's
/// number (`az1` for `a`).
pub fn az_id(region: &str, az: &str) -> String {
    let parts: Vec<&str> = region.split('-').collect();
    let mut abbr = String::new();
    if let [area, middle @ .., number] = &parts[..] {
        abbr.push_str(area);
        for m in middle {
            abbr.push_str(&m[..1.min(m.len())]);
        }
        abbr.push_str(number);
    }
    match az.as_bytes() {
        [l] if l.is_ascii_lowercase() => format!("{abbr}-az{}", l - b'a' + 1),
        _ => format!("{abbr}-{az}"),
    }
}

/// The zone letters vpcd offers in every region.
pub const AZ_LETTERS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

/// Removes the tags entries of `ids`.
pub fn drop_tags(t: &mut Topology, ids: &[String]) {
    for id in ids {
        t.tags.remove(id);
    }
}

/// The `[tags]` table of a document without the entries of `ids`.
pub fn drop_document_tags(doc: &mut toml::Table, ids: &[String]) {
    if let Some(toml::Value::Table(tags)) = doc.get_mut("tags") {
        for id in ids {
            tags.remove(id);
        }
    }
}

/// Sets tags `tags` on resource `id` (replacing values of the same keys).
pub fn set_tags(t: &mut Topology, id: &str, tags: &[(String, String)]) {
    if tags.is_empty() {
        return;
    }
    let entry = t.tags.entry(id.to_owned()).or_default();
    for (k, v) in tags {
        entry.insert(k.clone(), v.clone());
    }
}

/// `<tagSet>` written only when there are tags (AWS omits an empty one).
pub fn tag_set(x: &mut crate::xml::Xml, tags: &[(String, String)]) {
    if !tags.is_empty() {
        x.tag_set(tags);
    }
}

/// A `Describe*` answer: `items` filtered and paged ([`crate::filter::page`]), each
/// written as an `<item>` of list `set` by `write`, then `nextToken` if more are left.
pub fn described<T: crate::filter::Filterable>(
    ctx: &Ctx<'_>,
    set: &str,
    items: Vec<T>,
    write: impl Fn(&mut crate::xml::Xml, &T),
) -> Result<Outcome, ApiError> {
    let (items, next) = crate::filter::page(ctx.p, items)?;
    let mut x = crate::xml::Xml::new();
    x.set(set, &items, write);
    x.opt("nextToken", next);
    Outcome::read(x.finish())
}
