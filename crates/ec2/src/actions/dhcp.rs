//! `CreateDhcpOptions`, `DescribeDhcpOptions`, `DeleteDhcpOptions`,
//! `AssociateDhcpOptions`: AWS's DHCP option sets, which tell a VPC's instances their
//! DNS servers, search domain, NTP and NetBIOS servers.
//!
//! An option set is a `[[dhcp_options]]` of the configuration, its `dopt-` ID derived
//! from its name; a VPC names its set with `dhcp_options`. As in AWS, a set is checked
//! when created (known keys, at most four servers of each kind, a node type of 1, 2,
//! 4 or 8), `AssociateDhcpOptions` with `default` leaves the VPC without a set (vpcd
//! then gives what AWS's default set gives; `DescribeVpcs` shows `default`, which is
//! also what a VPC created without one shows: vpcd does not make the per-region
//! default set AWS makes for each account), and `DeleteDhcpOptions` refuses
//! (`DependencyViolation`) while a VPC uses the set. Option sets belong to no VPC:
//! every caller sees every set, and it shows the caller's account as its owner.
//! `ipv6-address-preferred-lease-time` is refused: vpcd's VPCs have no IPv6.

use vpc_config::DhcpOptionsId;

use super::{
    Ctx, Outcome, array, commit, drop_document_tags, edit_document, key, set_tags, tag_set,
};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// The option keys of `DhcpConfiguration.N.Key`, with their configuration keys.
const KEYS: [(&str, &str); 5] = [
    ("domain-name", "domain_name"),
    ("domain-name-servers", "domain_name_servers"),
    ("ntp-servers", "ntp_servers"),
    ("netbios-name-servers", "netbios_name_servers"),
    ("netbios-node-type", "netbios_node_type"),
];

/// The option set `i` as (key, values) pairs, in AWS's key order, set keys only.
fn configuration(ctx: &Ctx<'_>, i: usize) -> Vec<(&'static str, Vec<String>)> {
    let o = &ctx.t.dhcp_options[i];
    let strings = |v: &[std::net::Ipv4Addr]| v.iter().map(|a| a.to_string()).collect();
    let mut out: Vec<(&'static str, Vec<String>)> = Vec::new();
    if let Some(d) = &o.domain_name {
        out.push(("domain-name", vec![d.clone()]));
    }
    if !o.domain_name_servers.is_empty() {
        let servers = o
            .domain_name_servers
            .iter()
            .map(|s| s.to_string())
            .collect();
        out.push(("domain-name-servers", servers));
    }
    if !o.ntp_servers.is_empty() {
        out.push(("ntp-servers", strings(&o.ntp_servers)));
    }
    if !o.netbios_name_servers.is_empty() {
        out.push(("netbios-name-servers", strings(&o.netbios_name_servers)));
    }
    if let Some(n) = o.netbios_node_type {
        out.push(("netbios-node-type", vec![n.to_string()]));
    }
    out
}

struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let o = &self.ctx.t.dhcp_options[self.index];
        let config = configuration(self.ctx, self.index);
        match name {
            "dhcp-options-id" => Some(vec![ids::id(Kind::DhcpOptions, &o.name)]),
            "key" => Some(config.iter().map(|(k, _)| (*k).to_owned()).collect()),
            "value" => Some(config.into_iter().flat_map(|(_, v)| v).collect()),
            "owner-id" => Some(vec![self.ctx.caller.account.clone()]),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

fn dhcp_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let name = &ctx.t.dhcp_options[i].name;
    x.leaf("dhcpOptionsId", ids::id(Kind::DhcpOptions, name));
    x.set(
        "dhcpConfigurationSet",
        &configuration(ctx, i),
        |x, (k, values)| {
            x.leaf("key", k);
            x.set("valueSet", values, |x, v| {
                x.leaf("value", v);
            });
        },
    );
    x.leaf("ownerId", &ctx.caller.account);
    tag_set(x, &ctx.shown_tags(Kind::DhcpOptions, name));
}

/// `CreateDhcpOptions`: `DhcpConfiguration.N.Key`, `DhcpConfiguration.N.Value.M`,
/// `TagSpecification.N` (`dhcp-options`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let configs = ctx.p.list("DhcpConfiguration");
    if configs.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter dhcpConfiguration",
        ));
    }
    let mut table = toml::Table::new();
    for c in configs {
        let k = c.required("Key")?;
        let values = c.strings("Value");
        let Some((_, config_key)) = KEYS.iter().find(|(aws, _)| *aws == k) else {
            return Err(ApiError::invalid_value(format!(
                "Value ({k}) for parameter key is invalid. Unknown DHCP option"
            )));
        };
        if values.is_empty() {
            return Err(ApiError::invalid_value(format!(
                "Value for parameter {k} is missing"
            )));
        }
        if table.contains_key(*config_key) {
            return Err(ApiError::invalid_value(format!(
                "Value ({k}) for parameter key is invalid. Duplicate DHCP option"
            )));
        }
        let value = match k {
            "domain-name" => toml::Value::String(values.join(" ")),
            "netbios-node-type" => {
                let [one] = &values[..] else {
                    return Err(ApiError::invalid_value(
                        "netbios-node-type takes exactly one value",
                    ));
                };
                let n: i64 = one.parse().map_err(|_| {
                    ApiError::invalid_value(format!(
                        "Value ({one}) for parameter netbios-node-type is invalid"
                    ))
                })?;
                toml::Value::Integer(n)
            }
            _ => toml::Value::Array(values.into_iter().map(toml::Value::String).collect()),
        };
        table.insert((*config_key).to_owned(), value);
    }
    let tags = ctx.tag_specifications(Kind::DhcpOptions)?;
    let name = ctx.new_name(Kind::DhcpOptions, &tags, |_| false);
    table.insert("name".into(), name.clone().into());
    let mut new = edit_document(ctx.t, |doc| {
        array(doc, "dhcp_options").push(toml::Value::Table(table));
    })?;
    set_tags(&mut new, &ids::id(Kind::DhcpOptions, &name), &tags);
    let new = commit(&new)?;
    let i = ids::resolve(&new, Kind::DhcpOptions, &name)
        .ok_or_else(|| ApiError::invalid_value("the new DHCP option set was not created"))?;
    let view = Ctx { t: &new, ..*ctx };
    let mut x = Xml::new();
    x.open("dhcpOptions");
    dhcp_xml(&view, &mut x, i);
    x.close("dhcpOptions");
    Outcome::changed(x.finish(), new)
}

/// `DescribeDhcpOptions`: `DhcpOptionsId.N`, `Filter.N` (`dhcp-options-id`, `key`,
/// `value`, `owner-id`, `tag:*`), `MaxResults`, `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let indices = ctx.selected(Kind::DhcpOptions, "DhcpOptionsId", ctx.t.dhcp_options.len())?;
    let items: Vec<Item<'_>> = indices
        .into_iter()
        .map(|i| Item {
            index: i,
            tags: ctx.shown_tags(Kind::DhcpOptions, &ctx.t.dhcp_options[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "dhcpOptionsSet", items, |x, item| {
        dhcp_xml(ctx, x, item.index)
    })
}

/// `DeleteDhcpOptions`: `DhcpOptionsId`.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let i = ctx.find(Kind::DhcpOptions, ctx.p.required("DhcpOptionsId")?)?;
    let t = ctx.t;
    let name = t.dhcp_options[i].name.clone();
    let id = ids::id(Kind::DhcpOptions, &name);
    let users: Vec<String> = t
        .vpcs
        .iter()
        .filter(|v| v.dhcp_options == Some(DhcpOptionsId(i as u32)))
        .map(|v| ids::id(Kind::Vpc, &v.name))
        .collect();
    if !users.is_empty() {
        return Err(ApiError::dependency(format!(
            "The dhcpOptions '{id}' has dependencies and cannot be deleted: it is associated with {}",
            users.join(", ")
        )));
    }
    let new = edit_document(t, |doc| {
        array(doc, "dhcp_options").retain(|x| key(x, "name") != Some(&name));
        drop_document_tags(doc, std::slice::from_ref(&id));
    })?;
    Outcome::done(new)
}

/// `AssociateDhcpOptions`: `DhcpOptionsId` (or `default`: no set), `VpcId`.
pub fn associate(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let wanted = ctx.p.required("DhcpOptionsId")?;
    let v = ctx.find(Kind::Vpc, ctx.p.required("VpcId")?)?;
    let set = match wanted {
        "default" => None,
        id => Some(
            ctx.t.dhcp_options[ctx.find(Kind::DhcpOptions, id)?]
                .name
                .clone(),
        ),
    };
    let vpc = ctx.t.vpcs[v].name.clone();
    let new = edit_document(ctx.t, |doc| {
        for table in array(doc, "vpc") {
            if key(table, "name") != Some(&vpc) {
                continue;
            }
            if let Some(table) = table.as_table_mut() {
                match &set {
                    Some(name) => {
                        table.insert("dhcp_options".into(), name.clone().into());
                    }
                    None => {
                        table.remove("dhcp_options");
                    }
                }
            }
        }
    })?;
    Outcome::done(new)
}

/// The `dhcpOptionsId` `DescribeVpcs` shows for VPC `v`: its set's ID, or `default`.
pub fn vpc_dhcp_options_id(ctx: &Ctx<'_>, v: usize) -> String {
    match ctx.t.vpcs[v].dhcp_options {
        Some(o) => ids::id(Kind::DhcpOptions, &ctx.t.dhcp_options[o.index()].name),
        None => "default".to_owned(),
    }
}
