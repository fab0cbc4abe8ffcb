//! Gateway VPC endpoints and AWS-managed prefix lists (AWS: PrivateLink guide,
//! "Gateway endpoints"; VPC guide, "AWS-managed prefix lists"): `CreateVpcEndpoint`,
//! `DescribeVpcEndpoints`, `ModifyVpcEndpoint`, `DeleteVpcEndpoints`,
//! `DescribeVpcEndpointServices`, `DescribePrefixLists`, `DescribeManagedPrefixLists`,
//! `GetManagedPrefixListEntries`, and what `DescribeRouteTables` and the security group
//! actions show of them.
//!
//! - Only `Gateway` endpoints are built; `Interface` and `GatewayLoadBalancer` are
//!   refused (`InvalidParameterValue`). Only `s3` and `dynamodb` have gateway
//!   endpoints (`InvalidParameter` for another service; `InvalidServiceName` for one
//!   that is not emulated in the VPC's region). A route table of another VPC is
//!   `InvalidParameter`; a route table that has a gateway endpoint to the same service
//!   already is `RouteAlreadyExists`, as AWS answers.
//! - An endpoint is `available` as soon as it is created. Its policy is AWS's default
//!   full-access policy, shown and never stored (a given `PolicyDocument` is accepted
//!   and not enforced: vpcd has no IAM). No creation time is kept.
//! - An endpoint's route is shown once per associated table, as AWS shows it: its
//!   destination the service's prefix list (`destinationPrefixListId`), its target the
//!   endpoint (`gatewayId`, `vpce-...`), state `active`, origin `CreateRoute` (vpcd's
//!   choice: AWS adds the route with the endpoint and documents no other origin).
//! - `DeleteVpcEndpoints` deletes those it finds and lists the others under
//!   `unsuccessful` (`InvalidVpcEndpoint.NotFound`), as AWS does.
//! - Prefix lists are the emulated services' (`[[aws_service]]`), of the caller's
//!   region, owned by `AWS`, version 1, state `create-complete`.

use vpc_config::{AwsServiceId, RouteTableId, SgPeer, Topology, VpcId};

use super::route_tables::{client_token_key, token_mismatch};
use super::{Ctx, Outcome, array, drop_document_tags, edit_document, key, set_tags, tag_set};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::{Xml, escape};

/// AWS's default endpoint policy: full access.
const FULL_ACCESS_POLICY: &str = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// The `pl-` ID of service `s`'s prefix list.
pub(super) fn prefix_list_id_of(t: &Topology, s: AwsServiceId) -> String {
    ids::id(Kind::PrefixList, &t.aws_service(s).service_name())
}

/// A security group rule's peer `PrefixListId` (a `pl-` ID, or a list's name), of the
/// region of `vpc`: `InvalidPrefixListID.NotFound` for another.
pub(super) fn prefix_list_peer(
    ctx: &Ctx<'_>,
    vpc: VpcId,
    id: Option<&str>,
) -> Result<SgPeer, ApiError> {
    let id = id.ok_or_else(|| {
        ApiError::missing(
            "The request must contain the parameter IpPermissions.N.PrefixListIds.N.PrefixListId",
        )
    })?;
    let region = &ctx.t.vpc(vpc).region;
    let i = ctx.find(Kind::PrefixList, id)?;
    if &ctx.t.aws_services[i].region != region {
        return Err(ApiError::new(
            "InvalidPrefixListID.NotFound",
            format!("The prefix list ID '{id}' does not exist"),
        ));
    }
    Ok(SgPeer::PrefixList(AwsServiceId(i as u32)))
}

/// The IDs of the gateway endpoints `table` routes to (`route.gateway-id`).
pub(super) fn endpoint_ids(t: &Topology, table: RouteTableId) -> Vec<String> {
    t.endpoints_of(table)
        .map(|e| ids::id(Kind::VpcEndpoint, &t.vpc_endpoint(e).name))
        .collect()
}

/// The prefix lists `table` routes (`route.destination-prefix-list-id`).
pub(super) fn prefix_list_ids(t: &Topology, table: RouteTableId) -> Vec<String> {
    t.endpoints_of(table)
        .map(|e| prefix_list_id_of(t, t.vpc_endpoint(e).service))
        .collect()
}

/// The `item`s of `routeSet` for the gateway endpoints associated with `table`.
pub(super) fn endpoint_routes_xml(t: &Topology, x: &mut Xml, table: RouteTableId) {
    for e in t.endpoints_of(table) {
        let ep = t.vpc_endpoint(e);
        let service = t.aws_service(ep.service);
        x.open("item")
            .leaf(
                "destinationPrefixListId",
                ids::id(Kind::PrefixList, &service.service_name()),
            )
            .leaf("gatewayId", ids::id(Kind::VpcEndpoint, &ep.name))
            .leaf("state", "active")
            .leaf("origin", vpc_config::RouteOrigin::PrefixList.aws_name())
            .close("item");
    }
}

/// Removes route table `name` from every endpoint of document `doc` (the table is
/// deleted: vpcd's choice, the endpoint stays without it).
pub(super) fn forget_route_table(doc: &mut toml::Table, name: &str) {
    for x in array(doc, "vpc_endpoint").iter_mut() {
        if let Some(toml::Value::Array(list)) = x.get_mut("route_tables") {
            list.retain(|r| r.as_str() != Some(name));
        }
    }
}

/// A list of strings as AWS writes one: `<name><item>a</item>...</name>`.
fn strings(x: &mut Xml, name: &str, items: &[String]) {
    x.set(name, items, |x, s| {
        x.raw(&escape(s));
    });
}

/// A VPC endpoint as `DescribeVpcEndpoints` filters it.
struct EndpointItem<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for EndpointItem<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let e = &t.vpc_endpoints[self.index];
        let one = |s: String| Some(vec![s]);
        match name {
            "vpc-endpoint-id" => one(ids::id(Kind::VpcEndpoint, &e.name)),
            "vpc-id" => one(ids::id(Kind::Vpc, &t.vpc(e.vpc).name)),
            "service-name" => one(t.aws_service(e.service).service_name()),
            "vpc-endpoint-type" => one("Gateway".to_owned()),
            "vpc-endpoint-state" => one("available".to_owned()),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// The `VpcEndpoint` structure of endpoint `i`.
fn endpoint_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let t = ctx.t;
    let e = &t.vpc_endpoints[i];
    let vpc = t.vpc(e.vpc);
    let tables: Vec<String> = e
        .route_tables
        .iter()
        .map(|&r| ids::id(Kind::RouteTable, &t.route_table(r).name))
        .collect();
    x.leaf("vpcEndpointId", ids::id(Kind::VpcEndpoint, &e.name))
        .leaf("vpcEndpointType", "Gateway")
        .leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("serviceName", t.aws_service(e.service).service_name())
        .leaf("state", "available")
        .leaf("policyDocument", FULL_ACCESS_POLICY);
    strings(x, "routeTableIdSet", &tables);
    strings(x, "subnetIdSet", &[]);
    x.open("groupSet").close("groupSet");
    x.leaf("ipAddressType", "ipv4")
        .leaf("privateDnsEnabled", false)
        .leaf("requesterManaged", false);
    strings(x, "networkInterfaceIdSet", &[]);
    x.open("dnsEntrySet").close("dnsEntrySet");
    tag_set(x, &ctx.shown_tags(Kind::VpcEndpoint, &e.name));
    x.leaf("ownerId", &vpc.owner_id);
}

/// The configuration names of the route tables `ids` (of VPC `vpc`), checked.
fn route_table_names(
    ctx: &Ctx<'_>,
    vpc: VpcId,
    wanted: &[String],
) -> Result<Vec<String>, ApiError> {
    let t = ctx.t;
    let mut names = Vec::new();
    for id in wanted {
        let r = ctx.find(Kind::RouteTable, id)?;
        let rt = &t.route_tables[r];
        if rt.vpc != vpc {
            return Err(ApiError::new(
                "InvalidParameter",
                format!(
                    "Route table {id} does not belong to vpc {}",
                    ids::id(Kind::Vpc, &t.vpc(vpc).name)
                ),
            ));
        }
        if !names.contains(&rt.name) {
            names.push(rt.name.clone());
        }
    }
    Ok(names)
}

/// `RouteAlreadyExists` if one of `tables` has a route to service `s`'s prefix list by
/// an endpoint other than `except`.
fn second_route(
    t: &Topology,
    s: AwsServiceId,
    tables: &[String],
    except: Option<usize>,
) -> Result<(), ApiError> {
    for (k, e) in t.vpc_endpoints.iter().enumerate() {
        if e.service != s || Some(k) == except {
            continue;
        }
        for &r in &e.route_tables {
            let rt = t.route_table(r);
            if tables.contains(&rt.name) {
                return Err(ApiError::new(
                    "RouteAlreadyExists",
                    format!(
                        "route table {} already has a route with destination-prefix-list-id {}",
                        ids::id(Kind::RouteTable, &rt.name),
                        prefix_list_id_of(t, s)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `<clientToken>` and `<vpcEndpoint>` of the endpoint `name` in `t`.
fn created_xml(ctx: &Ctx<'_>, t: &Topology, name: &str) -> Result<String, ApiError> {
    let i = ids::resolve(t, Kind::VpcEndpoint, name)
        .ok_or_else(|| ApiError::invalid_value("the new VPC endpoint was not created"))?;
    let view = Ctx { t, ..*ctx };
    let mut x = Xml::new();
    x.open("vpcEndpoint");
    endpoint_xml(&view, &mut x, i);
    x.close("vpcEndpoint");
    x.opt("clientToken", ctx.p.str("ClientToken"));
    Ok(x.finish())
}

/// `CreateVpcEndpoint`: `VpcId`, `ServiceName`, `VpcEndpointType` (`Gateway`),
/// `RouteTableId.N`, `PolicyDocument` (accepted, not enforced), `ClientToken`,
/// `TagSpecification.N` (`vpc-endpoint`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    let v = ctx.find(Kind::Vpc, p.required("VpcId")?)?;
    let vpc = VpcId(v as u32);
    let service_name = p.required("ServiceName")?;
    let token = client_token_key(ctx, "CreateVpcEndpoint");
    if let Some(key) = &token
        && let Some(id) = ctx.api.client_token(key)
        && let Some(i) = ids::resolve(t, Kind::VpcEndpoint, &id)
    {
        let e = &t.vpc_endpoints[i];
        if e.vpc != vpc || t.aws_service(e.service).service_name() != service_name {
            return Err(token_mismatch(p.str("ClientToken").unwrap_or("")));
        }
        let name = e.name.clone();
        return Outcome::read(created_xml(ctx, t, &name)?);
    }
    match p.str("VpcEndpointType").unwrap_or("Gateway") {
        "Gateway" => {}
        other => {
            return Err(ApiError::invalid_value(format!(
                "vpcd builds only gateway endpoints (VpcEndpointType Gateway), not {other}"
            )));
        }
    }
    let region = &t.vpc(vpc).region;
    let s = t
        .find_aws_service(service_name)
        .filter(|&s| &t.aws_service(s).region == region)
        .ok_or_else(|| {
            ApiError::new(
                "InvalidServiceName",
                format!("The Vpc Endpoint Service '{service_name}' does not exist"),
            )
        })?;
    if !t.aws_service(s).has_gateway_endpoints() {
        return Err(ApiError::new(
            "InvalidParameter",
            format!(
                "The Vpc Endpoint Service '{service_name}' does not support the Gateway endpoint type: AWS offers gateway endpoints only for Amazon S3 and DynamoDB"
            ),
        ));
    }
    let tables = route_table_names(ctx, vpc, &p.strings("RouteTableId"))?;
    second_route(t, s, &tables, None)?;
    let tags = ctx.tag_specifications(Kind::VpcEndpoint)?;
    let name = ctx.new_name(Kind::VpcEndpoint, &tags, |_| false);
    let vpc_name = t.vpc(vpc).name.clone();
    let mut new = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        table.insert("vpc".into(), vpc_name.into());
        table.insert("service_name".into(), service_name.into());
        let list = tables.iter().map(|n| toml::Value::from(n.as_str()));
        table.insert("route_tables".into(), toml::Value::Array(list.collect()));
        array(doc, "vpc_endpoint").push(toml::Value::Table(table));
    })?;
    set_tags(&mut new, &ids::id(Kind::VpcEndpoint, &name), &tags);
    let new = super::commit(&new)?;
    let xml = created_xml(ctx, &new, &name)?;
    if let Some(key) = token {
        ctx.api
            .remember_client_token(key, ids::id(Kind::VpcEndpoint, &name));
    }
    Outcome::changed(xml, new)
}

/// `DescribeVpcEndpoints`: `VpcEndpointId.N`, `Filter.N` (`vpc-endpoint-id`, `vpc-id`,
/// `service-name`, `vpc-endpoint-type`, `vpc-endpoint-state`, `tag:*`), `MaxResults`,
/// `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let indices = ctx.selected(Kind::VpcEndpoint, "VpcEndpointId", t.vpc_endpoints.len())?;
    let items: Vec<EndpointItem<'_>> = indices
        .into_iter()
        .map(|i| EndpointItem {
            index: i,
            tags: ctx.shown_tags(Kind::VpcEndpoint, &t.vpc_endpoints[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "vpcEndpointSet", items, |x, item| {
        endpoint_xml(ctx, x, item.index)
    })
}

/// `ModifyVpcEndpoint`: `VpcEndpointId`, `AddRouteTableId.N`, `RemoveRouteTableId.N`
/// (`ResetPolicy` and `PolicyDocument` are accepted: the policy is always AWS's
/// default).
pub fn modify(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    let i = ctx.find(Kind::VpcEndpoint, p.required("VpcEndpointId")?)?;
    let e = &t.vpc_endpoints[i];
    let add = route_table_names(ctx, e.vpc, &p.strings("AddRouteTableId"))?;
    let remove = route_table_names(ctx, e.vpc, &p.strings("RemoveRouteTableId"))?;
    second_route(t, e.service, &add, Some(i))?;
    let mut tables: Vec<String> = e
        .route_tables
        .iter()
        .map(|&r| t.route_table(r).name.clone())
        .filter(|n| !remove.contains(n))
        .collect();
    for n in add {
        if !tables.contains(&n) {
            tables.push(n);
        }
    }
    let name = e.name.clone();
    let new = edit_document(t, |doc| {
        for x in array(doc, "vpc_endpoint").iter_mut() {
            if key(x, "name") == Some(&name)
                && let Some(table) = x.as_table_mut()
            {
                let list = tables.iter().map(|n| toml::Value::from(n.as_str()));
                table.insert("route_tables".into(), toml::Value::Array(list.collect()));
            }
        }
    })?;
    Outcome::changed("<return>true</return>".to_owned(), new)
}

/// `DeleteVpcEndpoints`: `VpcEndpointId.N`. Those not found are listed under
/// `unsuccessful`; the others are deleted with their routes and tags.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let wanted = ctx.p.strings("VpcEndpointId");
    if wanted.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter VpcEndpointId.N",
        ));
    }
    let mut names = Vec::new();
    let mut missing = Vec::new();
    for id in &wanted {
        match ctx.find(Kind::VpcEndpoint, id) {
            Ok(i) => names.push(ctx.t.vpc_endpoints[i].name.clone()),
            Err(_) => missing.push(id.clone()),
        }
    }
    let gone: Vec<String> = names
        .iter()
        .map(|n| ids::id(Kind::VpcEndpoint, n))
        .collect();
    let mut x = Xml::new();
    x.set("unsuccessful", &missing, |x, id| {
        x.open("error")
            .leaf("code", "InvalidVpcEndpoint.NotFound")
            .leaf(
                "message",
                format!("The VpcEndpoint Id '{id}' does not exist"),
            )
            .close("error")
            .leaf("resourceId", id);
    });
    if names.is_empty() {
        return Outcome::read(x.finish());
    }
    let new = edit_document(ctx.t, |doc| {
        array(doc, "vpc_endpoint")
            .retain(|x| key(x, "name").is_none_or(|n| !names.iter().any(|m| m == n)));
        drop_document_tags(doc, &gone);
    })?;
    Outcome::changed(x.finish(), new)
}

/// The services of the caller's region, by index.
fn regional(ctx: &Ctx<'_>) -> Vec<usize> {
    (0..ctx.t.aws_services.len())
        .filter(|&i| ctx.sees(Kind::PrefixList, i))
        .collect()
}

/// A service as `DescribeVpcEndpointServices` filters it.
struct ServiceItem<'c> {
    index: usize,
    t: &'c Topology,
}

impl ServiceItem<'_> {
    fn kind(&self) -> &'static str {
        if self.t.aws_services[self.index].has_gateway_endpoints() {
            "Gateway"
        } else {
            "Interface"
        }
    }
}

impl Filterable for ServiceItem<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let s = &self.t.aws_services[self.index];
        match name {
            "service-name" => Some(vec![s.service_name()]),
            "service-type" => Some(vec![self.kind().to_owned()]),
            "owner" => Some(vec!["amazon".to_owned()]),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &[]
    }
}

/// `DescribeVpcEndpointServices`: `ServiceName.N`, `Filter.N` (`service-name`,
/// `service-type`, `owner`), `MaxResults`, `NextToken`: the emulated services of the
/// caller's region (`serviceNameSet` and `serviceDetailSet`). A service without gateway
/// endpoints is shown as an interface service (which vpcd does not build).
pub fn describe_services(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let wanted = ctx.p.strings("ServiceName");
    let mut indices = regional(ctx);
    if !wanted.is_empty() {
        for w in &wanted {
            if !indices
                .iter()
                .any(|&i| &t.aws_services[i].service_name() == w)
            {
                return Err(ApiError::new(
                    "InvalidServiceName",
                    format!("The Vpc Endpoint Service '{w}' does not exist"),
                ));
            }
        }
        indices.retain(|&i| wanted.contains(&t.aws_services[i].service_name()));
    }
    let items: Vec<ServiceItem<'_>> = indices
        .into_iter()
        .map(|index| ServiceItem { index, t })
        .collect();
    let (items, next) = crate::filter::page(ctx.p, items)?;
    let names: Vec<String> = items
        .iter()
        .map(|i| t.aws_services[i.index].service_name())
        .collect();
    let mut x = Xml::new();
    strings(&mut x, "serviceNameSet", &names);
    x.set("serviceDetailSet", &items, |x, item| {
        let s = &t.aws_services[item.index];
        let name = s.service_name();
        x.leaf("serviceName", &name).leaf(
            "serviceId",
            ids::hashed(Kind::VpcEndpoint, &format!("vpce-svc/{name}")).replacen(
                "vpce-",
                "vpce-svc-",
                1,
            ),
        );
        x.open("serviceType")
            .open("item")
            .leaf("serviceType", item.kind())
            .close("item")
            .close("serviceType");
        strings(x, "availabilityZoneSet", &[]);
        x.leaf("owner", "amazon");
        strings(
            x,
            "baseEndpointDnsNameSet",
            &[format!("{}.{}.amazonaws.com", s.name, s.region)],
        );
        x.leaf("vpcEndpointPolicySupported", true)
            .leaf("acceptanceRequired", false)
            .leaf("managesVpcEndpoints", false);
        strings(x, "supportedIpAddressTypes", &["ipv4".to_owned()]);
    });
    x.opt("nextToken", next);
    Outcome::read(x.finish())
}

/// A prefix list as `DescribePrefixLists` and `DescribeManagedPrefixLists` filter it.
struct ListItem<'c> {
    index: usize,
    t: &'c Topology,
}

impl Filterable for ListItem<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let s = &self.t.aws_services[self.index];
        match name {
            "prefix-list-id" => Some(vec![ids::id(Kind::PrefixList, &s.service_name())]),
            "prefix-list-name" => Some(vec![s.service_name()]),
            "owner-id" => Some(vec!["AWS".to_owned()]),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &[]
    }
}

/// The prefix lists a describe answers: `PrefixListId.N` (each found, else its
/// `.NotFound`), else every one of the caller's region.
fn lists<'a>(ctx: &Ctx<'a>) -> Result<Vec<ListItem<'a>>, ApiError> {
    let indices = ctx.selected(Kind::PrefixList, "PrefixListId", ctx.t.aws_services.len())?;
    Ok(indices
        .into_iter()
        .map(|index| ListItem { index, t: ctx.t })
        .collect())
}

/// `DescribePrefixLists`: `PrefixListId.N`, `Filter.N` (`prefix-list-id`,
/// `prefix-list-name`), `MaxResults`, `NextToken`: each list with its blocks.
pub fn describe_prefix_lists(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let items = lists(ctx)?;
    super::described(ctx, "prefixListSet", items, |x, item| {
        let s = &item.t.aws_services[item.index];
        let cidrs: Vec<String> = s.cidrs.iter().map(ToString::to_string).collect();
        x.leaf("prefixListId", ids::id(Kind::PrefixList, &s.service_name()))
            .leaf("prefixListName", s.service_name());
        strings(x, "cidrSet", &cidrs);
    })
}

/// `DescribeManagedPrefixLists`: `PrefixListId.N`, `Filter.N` (`prefix-list-id`,
/// `prefix-list-name`, `owner-id`), `MaxResults`, `NextToken`.
pub fn describe_managed_prefix_lists(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let items = lists(ctx)?;
    super::described(ctx, "prefixListSet", items, |x, item| {
        let s = &item.t.aws_services[item.index];
        let id = ids::id(Kind::PrefixList, &s.service_name());
        x.leaf("prefixListId", &id)
            .leaf("addressFamily", "IPv4")
            .leaf("state", "create-complete")
            .leaf(
                "prefixListArn",
                format!("arn:aws:ec2:{}:aws:prefix-list/{id}", s.region),
            )
            .leaf("prefixListName", s.service_name())
            .leaf("maxEntries", s.cidrs.len())
            .leaf("version", 1);
        x.open("tagSet").close("tagSet");
        x.leaf("ownerId", "AWS");
    })
}

/// `GetManagedPrefixListEntries`: `PrefixListId`, `MaxResults`, `NextToken`: the
/// list's blocks (`entrySet`).
pub fn get_managed_prefix_list_entries(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let i = ctx.find(Kind::PrefixList, ctx.p.required("PrefixListId")?)?;
    let cidrs: Vec<String> = ctx.t.aws_services[i]
        .cidrs
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut x = Xml::new();
    x.set("entrySet", &cidrs, |x, c| {
        x.leaf("cidr", c);
    });
    Outcome::read(x.finish())
}
