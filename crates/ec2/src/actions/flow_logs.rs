//! `CreateFlowLogs`, `DescribeFlowLogs`, `DeleteFlowLogs`.
//!
//! AWS's behaviour: one flow log per resource of `ResourceId.N` (`VPC`, `Subnet` or
//! `NetworkInterface`), each `fl-...`, `ACTIVE` at once; `TrafficType` (default
//! `ALL`), `LogFormat` (default version 2's fields), `MaxAggregationInterval` (60 or
//! 600, default 600) as in a `[[flow_log]]`. vpcd writes every flow log to a file: the
//! AWS destination it was given (`LogDestinationType` `cloud-watch-logs`, the default,
//! with `LogGroupName` or a log group ARN in `LogDestination`; or `s3` with a bucket
//! ARN and optional prefix) is kept in the configuration and shown back as given, and
//! the file is [`file_for`]: `cloud-watch-logs/<log group>/<flow log>.log` or
//! `s3/<bucket>/<prefix>/<flow log>.log`, relative to the daemon's flow-log directory
//! (each path segment reduced to letters, digits, `.`, `_` and `-`). A flow log is
//! seen by the owner of its resource's VPC. Unlike AWS, a resource the caller does not
//! have fails the whole request (AWS lists it under `unsuccessful`).

use vpc_config::{FlowLogResource, LogDestinationType, Topology};

use super::{
    Ctx, Outcome, array, commit, drop_document_tags, edit_document, key, set_tags, tag_set,
};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// Whether the caller sees flow log `i`: it owns the VPC of its resource.
pub fn sees(ctx: &Ctx<'_>, i: usize) -> bool {
    let t = ctx.t;
    ctx.sees_vpc(match t.flow_logs[i].resource {
        FlowLogResource::Vpc(v) => v,
        FlowLogResource::Subnet(s) => t.subnet(s).vpc,
        FlowLogResource::Eni(e) => t.eni_vpc(e),
    })
}

/// The ID of a flow log's resource.
fn resource_id(t: &Topology, r: FlowLogResource) -> String {
    match r {
        FlowLogResource::Vpc(v) => ids::id(Kind::Vpc, &t.vpc(v).name),
        FlowLogResource::Subnet(s) => ids::id(Kind::Subnet, &t.subnet(s).name),
        FlowLogResource::Eni(e) => ids::id(Kind::NetworkInterface, &t.eni_name(e).to_string()),
    }
}

/// The log group an ARN `arn:aws:logs:<region>:<account>:log-group:<name>[:*]` names.
fn log_group_of(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":log-group:")?;
    let name = rest.strip_suffix(":*").unwrap_or(rest);
    (arn.starts_with("arn:") && !name.is_empty()).then_some(name)
}

/// The bucket and prefix an ARN `arn:aws:s3:::<bucket>[/<prefix>]` names.
fn bucket_of(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:s3:::")?;
    (!rest.is_empty() && !rest.starts_with('/')).then_some(rest)
}

/// The file vpcd writes flow log `name` with AWS destination `ty`/`arn` to, relative to
/// the flow-log directory: `cloud-watch-logs/<group>/<name>.log` or
/// `s3/<bucket>/<prefix>/<name>.log`, every segment reduced to `[A-Za-z0-9._-]`
/// (others become `_`), empty, `.` and `..` segments dropped.
pub fn file_for(ty: LogDestinationType, arn: &str, name: &str) -> String {
    let place = match ty {
        LogDestinationType::CloudWatchLogs => log_group_of(arn).unwrap_or(arn),
        LogDestinationType::S3 => bucket_of(arn).unwrap_or(arn),
    };
    let mut parts = vec![ty.name().to_owned()];
    for segment in place.split('/') {
        let clean: String = segment
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if !clean.is_empty() && clean != "." && clean != ".." {
            parts.push(clean);
        }
    }
    parts.push(format!("{name}.log"));
    parts.join("/")
}

struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let f = &t.flow_logs[self.index];
        let one = |s: String| Some(vec![s]);
        match name {
            "flow-log-id" => one(ids::id(Kind::FlowLog, &f.name)),
            "resource-id" => one(resource_id(t, f.resource)),
            "traffic-type" => one(f.traffic_type.name().to_owned()),
            "deliver-log-status" => one("SUCCESS".to_owned()),
            "log-destination-type" => Some(
                f.delivery
                    .iter()
                    .map(|d| d.destination_type.name().to_owned())
                    .collect(),
            ),
            "log-group-name" => Some(
                f.delivery
                    .iter()
                    .filter(|d| d.destination_type == LogDestinationType::CloudWatchLogs)
                    .filter_map(|d| log_group_of(&d.arn).map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// The `FlowLog` structure of flow log `i`.
fn flow_log_xml(t: &Topology, x: &mut Xml, i: usize) {
    let f = &t.flow_logs[i];
    if let Some(p) = f.delivery.as_ref().and_then(|d| d.permission_arn.as_ref()) {
        x.leaf("deliverLogsPermissionArn", p);
    }
    x.leaf("deliverLogsStatus", "SUCCESS")
        .leaf("flowLogId", ids::id(Kind::FlowLog, &f.name))
        .leaf("flowLogStatus", "ACTIVE");
    match &f.delivery {
        Some(d) => {
            if d.destination_type == LogDestinationType::CloudWatchLogs {
                x.opt("logGroupName", log_group_of(&d.arn));
            }
            x.leaf("resourceId", resource_id(t, f.resource))
                .leaf("trafficType", f.traffic_type.name())
                .leaf("logDestinationType", d.destination_type.name())
                .leaf("logDestination", &d.arn);
        }
        None => {
            x.leaf("resourceId", resource_id(t, f.resource))
                .leaf("trafficType", f.traffic_type.name())
                .leaf("logDestination", &f.destination);
        }
    }
    let format: Vec<String> = f
        .format
        .iter()
        .map(|field| format!("${{{}}}", field.name()))
        .collect();
    x.leaf("logFormat", format.join(" "));
    tag_set(x, &super::shown_tags(t, Kind::FlowLog, &f.name));
    x.leaf("maxAggregationInterval", f.max_aggregation_interval);
}

/// `CreateFlowLogs`: `ResourceType`, `ResourceId.N`, `TrafficType`,
/// `LogDestinationType`, `LogDestination`, `LogGroupName`, `DeliverLogsPermissionArn`,
/// `LogFormat`, `MaxAggregationInterval`, `TagSpecification.N` (`vpc-flow-log`),
/// `ClientToken` (ignored).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    let resource_type = p.required("ResourceType")?;
    let (kind, key_name) = match resource_type {
        "VPC" => (Kind::Vpc, "vpc"),
        "Subnet" => (Kind::Subnet, "subnet"),
        "NetworkInterface" => (Kind::NetworkInterface, "network_interface"),
        other => {
            return Err(ApiError::invalid_value(format!(
                "Value ({other}) for parameter resourceType is invalid. Expected VPC, Subnet or NetworkInterface (vpcd has no transit gateway flow logs)."
            )));
        }
    };
    let resource_ids = p.strings("ResourceId");
    if resource_ids.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter ResourceId.N",
        ));
    }
    let mut resources: Vec<(String, String)> = Vec::new();
    for id in &resource_ids {
        let i = ctx.find(kind, id)?;
        let config_name = match kind {
            Kind::Vpc => t.vpcs[i].name.clone(),
            Kind::Subnet => t.subnets[i].name.clone(),
            _ => t.eni_name(vpc_config::EniId(i as u32)).to_string(),
        };
        let id = ids::id(kind, &ids::names(t, kind)[i]);
        if !resources.iter().any(|(r, _)| *r == id) {
            resources.push((id, config_name));
        }
    }
    let traffic = p.str("TrafficType").unwrap_or("ALL");
    if vpc_config::TrafficType::from_name(traffic).is_none() {
        return Err(ApiError::invalid_value(format!(
            "Value ({traffic}) for parameter trafficType is invalid. Expected ACCEPT, REJECT or ALL."
        )));
    }
    let ty_text = p.str("LogDestinationType").unwrap_or("cloud-watch-logs");
    let ty = LogDestinationType::from_name(ty_text).ok_or_else(|| {
        ApiError::invalid_value(format!(
            "Value ({ty_text}) for parameter logDestinationType is invalid: vpcd supports cloud-watch-logs and s3"
        ))
    })?;
    let arn = match (ty, p.str("LogDestination"), p.str("LogGroupName")) {
        (_, Some(_), Some(_)) => {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "Give LogDestination or LogGroupName, not both",
            ));
        }
        (LogDestinationType::CloudWatchLogs, Some(arn), None) => {
            if log_group_of(arn).is_none() {
                return Err(ApiError::invalid_value(format!(
                    "LogDestination {arn} is not a CloudWatch Logs log group ARN"
                )));
            }
            arn.to_owned()
        }
        (LogDestinationType::CloudWatchLogs, None, Some(group)) if !group.is_empty() => {
            format!(
                "arn:aws:logs:{}:{}:log-group:{group}",
                ctx.caller.region, ctx.caller.account
            )
        }
        (LogDestinationType::CloudWatchLogs, _, _) => {
            return Err(ApiError::missing(
                "The request must contain the parameter LogGroupName or LogDestination",
            ));
        }
        (LogDestinationType::S3, Some(arn), None) => {
            if bucket_of(arn).is_none() {
                return Err(ApiError::invalid_value(format!(
                    "LogDestination {arn} is not an S3 bucket ARN (arn:aws:s3:::bucket[/prefix])"
                )));
            }
            arn.to_owned()
        }
        (LogDestinationType::S3, _, _) => {
            return Err(ApiError::missing(
                "The request must contain the parameter LogDestination (an S3 bucket ARN)",
            ));
        }
    };
    for (name, default) in [
        ("DestinationOptions.FileFormat", "plain-text"),
        ("DestinationOptions.HiveCompatiblePartitions", "false"),
        ("DestinationOptions.PerHourPartition", "false"),
    ] {
        if let Some(v) = p.str(name)
            && v != default
        {
            return Err(ApiError::invalid_value(format!(
                "Value ({v}) for parameter {name} is not supported by vpcd: only {default} is"
            )));
        }
    }
    if p.str("DeliverCrossAccountRole").is_some() {
        return Err(ApiError::invalid_value(
            "vpcd does not support DeliverCrossAccountRole",
        ));
    }
    let permission = p.str("DeliverLogsPermissionArn").map(str::to_owned);
    let format = p.str("LogFormat").map(str::to_owned);
    let interval = p.int("MaxAggregationInterval")?;
    let tags = ctx.tag_specifications(Kind::FlowLog)?;
    let mut names: Vec<String> = Vec::new();
    for _ in &resources {
        let name = ctx.new_name(Kind::FlowLog, &tags, |n| names.iter().any(|x| x == n));
        names.push(name);
    }
    let mut new = edit_document(t, |doc| {
        for ((_, resource), name) in resources.iter().zip(&names) {
            let mut table = toml::Table::new();
            table.insert("name".into(), name.clone().into());
            table.insert(key_name.into(), resource.clone().into());
            table.insert("traffic_type".into(), traffic.into());
            table.insert("log_destination".into(), file_for(ty, &arn, name).into());
            if let Some(f) = &format {
                table.insert("log_format".into(), f.clone().into());
            }
            if let Some(i) = interval {
                table.insert("max_aggregation_interval".into(), i.into());
            }
            table.insert("log_destination_type".into(), ty.name().into());
            table.insert("log_destination_arn".into(), arn.clone().into());
            if let Some(p) = &permission {
                table.insert("deliver_logs_permission_arn".into(), p.clone().into());
            }
            array(doc, "flow_log").push(toml::Value::Table(table));
        }
    })?;
    for name in &names {
        set_tags(&mut new, &ids::id(Kind::FlowLog, name), &tags);
    }
    let new = commit(&new)?;
    let fl_ids: Vec<String> = names.iter().map(|n| ids::id(Kind::FlowLog, n)).collect();
    let mut x = Xml::new();
    x.set("flowLogIdSet", &fl_ids, |x, id| {
        x.raw(&crate::xml::escape(id));
    });
    x.open("unsuccessful").close("unsuccessful");
    Outcome::changed(x.finish(), new)
}

/// `DescribeFlowLogs`: `FlowLogId.N`, `Filter.N` (`flow-log-id`, `resource-id`,
/// `traffic-type`, `log-destination-type`, `log-group-name`, `deliver-log-status`,
/// `tag:*`), `MaxResults`, `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let indices = ctx.selected(Kind::FlowLog, "FlowLogId", ctx.t.flow_logs.len())?;
    let items: Vec<Item<'_>> = indices
        .into_iter()
        .map(|i| Item {
            index: i,
            tags: ctx.shown_tags(Kind::FlowLog, &ctx.t.flow_logs[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "flowLogSet", items, |x, item| {
        flow_log_xml(ctx.t, x, item.index)
    })
}

/// `DeleteFlowLogs`: `FlowLogId.N`.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let wanted = ctx.p.strings("FlowLogId");
    if wanted.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter FlowLogId.N",
        ));
    }
    let mut names = Vec::new();
    for id in &wanted {
        let i = ctx.find(Kind::FlowLog, id)?;
        names.push(ctx.t.flow_logs[i].name.clone());
    }
    let gone: Vec<String> = names.iter().map(|n| ids::id(Kind::FlowLog, n)).collect();
    let new = edit_document(ctx.t, |doc| {
        array(doc, "flow_log")
            .retain(|x| key(x, "name").is_none_or(|n| !names.iter().any(|m| m == n)));
        drop_document_tags(doc, &gone);
    })?;
    let mut x = Xml::new();
    x.open("unsuccessful").close("unsuccessful");
    Outcome::changed(x.finish(), new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_for_destinations() {
        assert_eq!(
            file_for(
                LogDestinationType::CloudWatchLogs,
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc/flows:*",
                "fl-1"
            ),
            "cloud-watch-logs/aws/vpc/flows/fl-1.log"
        );
        assert_eq!(
            file_for(
                LogDestinationType::S3,
                "arn:aws:s3:::my-bucket/a b/../x/",
                "f"
            ),
            "s3/my-bucket/a_b/x/f.log"
        );
    }
}
