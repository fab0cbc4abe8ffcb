//! Instance metadata options over the EC2 API: `RunInstances`' `MetadataOptions.*`
//! (read by [`requested`]), the `metadataOptions` element `DescribeInstances` shows
//! ([`options_xml`], state `applied`), and `ModifyInstanceMetadataOptions`
//! ([`modify`]). Also the facts about an instance that the instance metadata service
//! (`vpc_services::imds`) shows, re-exported from the actions that compute them, so
//! that the metadata service and `DescribeInstances` always agree (IDs, MAC
//! addresses, DNS names, zone names, image and type).
//!
//! AWS's rules: `HttpTokens` is `optional` or `required`, `HttpPutResponseHopLimit`
//! 1 to 64, `HttpEndpoint` `enabled` or `disabled`; anything else is
//! `InvalidParameterValue`. vpcd has no IPv6 endpoint and no instance tags in the
//! metadata, so `HttpProtocolIpv6` and `InstanceMetadataTags` are shown `disabled` and
//! only `disabled` is accepted for them. `ModifyInstanceMetadataOptions` answers the
//! new options with state `pending` as AWS does; vpcd applies them at once, so the
//! next `DescribeInstances` shows `applied`.

use vpc_config::{
    HttpEndpoint, HttpTokens, InstanceId, MetadataOptions, MetadataOptionsChange, Topology,
};

pub use super::instances::{architecture, image_id, launch_time, type_name};
pub use super::interfaces::{eni_id, groups, mac, private_dns, public_dns};
use super::{Ctx, Outcome, commit};
pub use super::{az_id, az_name};
use crate::error::ApiError;
use crate::ids::{self, Kind};
use crate::params::Params;
use crate::xml::Xml;

/// The EC2 ID of instance `i` (`i-` derived from its name, as `DescribeInstances`).
pub fn instance_id(t: &Topology, i: InstanceId) -> String {
    ids::id(Kind::Instance, &t.instance(i).name)
}

/// The EC2 ID of subnet `s`.
pub fn subnet_id(t: &Topology, s: vpc_config::SubnetId) -> String {
    ids::id(Kind::Subnet, &t.subnet(s).name)
}

/// The EC2 ID of VPC `v`.
pub fn vpc_id(t: &Topology, v: vpc_config::VpcId) -> String {
    ids::id(Kind::Vpc, &t.vpc(v).name)
}

/// `<name>` with the options `o` in state `state` (`applied` or `pending`).
pub fn options_xml(x: &mut Xml, name: &str, o: &MetadataOptions, state: &str) {
    x.open(name)
        .leaf("state", state)
        .leaf("httpTokens", o.http_tokens.aws_name())
        .leaf("httpPutResponseHopLimit", o.http_put_response_hop_limit)
        .leaf("httpEndpoint", o.http_endpoint.aws_name())
        .leaf("httpProtocolIpv6", "disabled")
        .leaf("instanceMetadataTags", "disabled")
        .close(name);
}

/// The options a request asks for under `prefix` (`MetadataOptions` for
/// `RunInstances`, empty for `ModifyInstanceMetadataOptions`): each one given is
/// checked; the hop limit's range is checked here too.
pub fn requested(p: &Params, prefix: &str) -> Result<MetadataOptionsChange, ApiError> {
    let name = |n: &str| {
        if prefix.is_empty() {
            n.to_owned()
        } else {
            format!("{prefix}.{n}")
        }
    };
    let bad = |param: &str, v: &str, expected: &str| {
        ApiError::invalid_value(format!(
            "Value ({v}) for parameter {param} is invalid. Expected: {expected}."
        ))
    };
    let mut c = MetadataOptionsChange::default();
    if let Some(v) = p.str(&name("HttpTokens")) {
        c.http_tokens = Some(
            HttpTokens::from_aws_name(v)
                .ok_or_else(|| bad("HttpTokens", v, "'optional', 'required'"))?,
        );
    }
    if let Some(v) = p.str(&name("HttpEndpoint")) {
        c.http_endpoint = Some(
            HttpEndpoint::from_aws_name(v)
                .ok_or_else(|| bad("HttpEndpoint", v, "'enabled', 'disabled'"))?,
        );
    }
    if let Some(h) = p.int(&name("HttpPutResponseHopLimit"))? {
        if !(1..=64).contains(&h) {
            return Err(ApiError::invalid_value(format!(
                "Value ({h}) for parameter HttpPutResponseHopLimit is invalid. Expected: an integer from 1 to 64."
            )));
        }
        c.http_put_response_hop_limit = Some(h);
    }
    for (param, why) in [
        (
            "HttpProtocolIpv6",
            "vpcd's metadata service has no IPv6 endpoint",
        ),
        (
            "InstanceMetadataTags",
            "vpcd's metadata service does not show instance tags",
        ),
    ] {
        if let Some(v) = p.str(&name(param))
            && v != "disabled"
        {
            return Err(ApiError::invalid_value(format!(
                "Value ({v}) for parameter {param} is invalid: {why}; only 'disabled' is accepted."
            )));
        }
    }
    Ok(c)
}

/// `ModifyInstanceMetadataOptions`: `InstanceId`, `HttpTokens`,
/// `HttpPutResponseHopLimit`, `HttpEndpoint` (and `HttpProtocolIpv6`,
/// `InstanceMetadataTags`: `disabled` only). Answers `instanceId` and
/// `instanceMetadataOptions` (state `pending`).
pub fn modify(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("InstanceId")?;
    let i = ctx.find(Kind::Instance, id)?;
    let change = requested(ctx.p, "")?;
    let t = ctx.t;
    let name = &t.instances[i].name;
    let mut new = t.clone();
    let options = new
        .modify_instance_metadata_options(name, change)
        .map_err(|e| ApiError::invalid_value(e.to_string()))?;
    let mut x = Xml::new();
    x.leaf("instanceId", ids::id(Kind::Instance, name));
    options_xml(&mut x, "instanceMetadataOptions", &options, "pending");
    if new == *t {
        return Outcome::read(x.finish());
    }
    Outcome::changed(x.finish(), commit(&new)?)
}

/// The `metadata_options` table of a new instance's configuration: the keys `c` sets,
/// `None` if it sets none (the defaults apply).
pub fn options_table(c: &MetadataOptionsChange) -> Option<toml::Table> {
    let mut table = toml::Table::new();
    if let Some(t) = c.http_tokens {
        table.insert("http_tokens".into(), t.aws_name().into());
    }
    if let Some(h) = c.http_put_response_hop_limit {
        table.insert("http_put_response_hop_limit".into(), h.into());
    }
    if let Some(e) = c.http_endpoint {
        table.insert("http_endpoint".into(), e.aws_name().into());
    }
    (!table.is_empty()).then_some(table)
}

/// The values of `DescribeInstances` filter `name` among the `metadata-options.*`
/// filters (`http-tokens`, `http-put-response-hop-limit`, `http-endpoint`,
/// `http-protocol-ipv6`, `instance-metadata-tags`, `state`) for options `o`; `None`
/// for any other name.
pub fn filter_values(o: &MetadataOptions, name: &str) -> Option<Vec<String>> {
    let value = match name.strip_prefix("metadata-options.")? {
        "http-tokens" => o.http_tokens.aws_name().to_owned(),
        "http-put-response-hop-limit" => o.http_put_response_hop_limit.to_string(),
        "http-endpoint" => o.http_endpoint.aws_name().to_owned(),
        "http-protocol-ipv6" | "instance-metadata-tags" => "disabled".to_owned(),
        "state" => "applied".to_owned(),
        _ => return None,
    };
    Some(vec![value])
}
