//! `CreateInternetGateway`, `AttachInternetGateway`, `DetachInternetGateway`,
//! `DescribeInternetGateways`, `DeleteInternetGateway`.
//!
//! Attaching and detaching are vpc-config's edits (a VPC has at most one gateway;
//! detaching also removes the gateway's edge association). A detached gateway belongs
//! to no VPC and so to no account: every caller sees it. `DeleteInternetGateway`
//! refuses (`DependencyViolation`) while the gateway is attached, and while a route
//! table still has a route to it (AWS keeps such routes as `blackhole`; the
//! configuration names the gateway in them, so they must go first).

use vpc_config::{EditError, InternetGatewayId, RouteTarget};

use super::{
    Ctx, Outcome, array, commit, drop_document_tags, edit_document, key, set_tags, tag_set,
};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let g = &t.internet_gateways[self.index];
        match name {
            "internet-gateway-id" => Some(vec![ids::id(Kind::InternetGateway, &g.name)]),
            "attachment.vpc-id" => Some(
                g.vpc
                    .iter()
                    .map(|v| ids::id(Kind::Vpc, &t.vpc(*v).name))
                    .collect(),
            ),
            "attachment.state" => Some(g.vpc.iter().map(|_| "available".to_owned()).collect()),
            "owner-id" => Some(vec![owner(self.ctx, self.index)]),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// The gateway's owner: its VPC's, or the caller's while detached.
fn owner(ctx: &Ctx<'_>, i: usize) -> String {
    match ctx.t.internet_gateways[i].vpc {
        Some(v) => ctx.t.vpc(v).owner_id.clone(),
        None => ctx.caller.account.clone(),
    }
}

fn igw_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let t = ctx.t;
    let g = &t.internet_gateways[i];
    let attachments: Vec<String> = g
        .vpc
        .iter()
        .map(|v| ids::id(Kind::Vpc, &t.vpc(*v).name))
        .collect();
    x.set("attachmentSet", &attachments, |x, v| {
        x.leaf("vpcId", v).leaf("state", "available");
    });
    x.leaf("internetGatewayId", ids::id(Kind::InternetGateway, &g.name))
        .leaf("ownerId", owner(ctx, i));
    tag_set(x, &ctx.shown_tags(Kind::InternetGateway, &g.name));
}

/// `CreateInternetGateway`: `TagSpecification.N` (`internet-gateway`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let tags = ctx.tag_specifications(Kind::InternetGateway)?;
    let name = ctx.new_name(Kind::InternetGateway, &tags, |_| false);
    let mut new = edit_document(ctx.t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        array(doc, "internet_gateway").push(toml::Value::Table(table));
    })?;
    set_tags(&mut new, &ids::id(Kind::InternetGateway, &name), &tags);
    let new = commit(&new)?;
    let i = ids::resolve(&new, Kind::InternetGateway, &name)
        .ok_or_else(|| ApiError::invalid_value("the new internet gateway was not created"))?;
    let view = Ctx { t: &new, ..*ctx };
    let mut x = Xml::new();
    x.open("internetGateway");
    igw_xml(&view, &mut x, i);
    x.close("internetGateway");
    Outcome::changed(x.finish(), new)
}

/// The gateway and VPC of `InternetGatewayId` and `VpcId`.
fn gateway_and_vpc(ctx: &Ctx<'_>) -> Result<(usize, usize), ApiError> {
    let g = ctx.find(Kind::InternetGateway, ctx.p.required("InternetGatewayId")?)?;
    let v = ctx.find(Kind::Vpc, ctx.p.required("VpcId")?)?;
    Ok((g, v))
}

/// `AttachInternetGateway`: `InternetGatewayId`, `VpcId`.
pub fn attach(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (g, v) = gateway_and_vpc(ctx)?;
    let t = ctx.t;
    let igw_id = ids::id(Kind::InternetGateway, &t.internet_gateways[g].name);
    let mut new = t.clone();
    new.attach_internet_gateway(&t.internet_gateways[g].name, &t.vpcs[v].name)
        .map_err(|e| match e {
            EditError::InternetGatewayAttached { .. } => ApiError::new(
                "Resource.AlreadyAssociated",
                format!(
                    "resource {igw_id} is already attached to network {}",
                    ids::id(Kind::Vpc, &t.vpcs[v].name)
                ),
            ),
            EditError::VpcHasInternetGateway { .. } => ApiError::new(
                "Resource.AlreadyAssociated",
                format!(
                    "network {} already has an internet gateway attached",
                    ids::id(Kind::Vpc, &t.vpcs[v].name)
                ),
            ),
            other => ApiError::invalid_value(other.to_string()),
        })?;
    Outcome::done(commit(&new)?)
}

/// `DetachInternetGateway`: `InternetGatewayId`, `VpcId` (the VPC it is attached to).
pub fn detach(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (g, v) = gateway_and_vpc(ctx)?;
    let t = ctx.t;
    let gw = &t.internet_gateways[g];
    if gw.vpc.map(|x| x.index()) != Some(v) {
        return Err(ApiError::new(
            "Gateway.NotAttached",
            format!(
                "resource {} is not attached to network {}",
                ids::id(Kind::InternetGateway, &gw.name),
                ids::id(Kind::Vpc, &t.vpcs[v].name)
            ),
        ));
    }
    let mut new = t.clone();
    new.detach_internet_gateway(&gw.name)
        .map_err(|e| ApiError::invalid_value(e.to_string()))?;
    Outcome::done(commit(&new)?)
}

/// `DescribeInternetGateways`: `InternetGatewayId.N`, `Filter.N`, `MaxResults`,
/// `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let indices = ctx.selected(
        Kind::InternetGateway,
        "InternetGatewayId",
        ctx.t.internet_gateways.len(),
    )?;
    let items: Vec<Item<'_>> = indices
        .into_iter()
        .map(|i| Item {
            index: i,
            tags: ctx.shown_tags(Kind::InternetGateway, &ctx.t.internet_gateways[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "internetGatewaySet", items, |x, item| {
        igw_xml(ctx, x, item.index)
    })
}

/// `DeleteInternetGateway`: `InternetGatewayId`.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let g = ctx.find(Kind::InternetGateway, ctx.p.required("InternetGatewayId")?)?;
    let t = ctx.t;
    let gw = &t.internet_gateways[g];
    let igw_id = ids::id(Kind::InternetGateway, &gw.name);
    let gid = InternetGatewayId(g as u32);
    let routed = t
        .route_tables
        .iter()
        .filter(|r| {
            r.routes
                .iter()
                .any(|x| x.target == RouteTarget::InternetGateway(gid))
        })
        .map(|r| ids::id(Kind::RouteTable, &r.name))
        .collect::<Vec<_>>();
    if gw.vpc.is_some() || !routed.is_empty() {
        let why = if gw.vpc.is_some() {
            "it is attached to a VPC".to_owned()
        } else {
            format!("route tables {} have routes to it", routed.join(", "))
        };
        return Err(ApiError::dependency(format!(
            "The internetGateway '{igw_id}' has dependencies and cannot be deleted: {why}"
        )));
    }
    let name = gw.name.clone();
    let new = edit_document(t, |doc| {
        array(doc, "internet_gateway").retain(|x| key(x, "name") != Some(&name));
        drop_document_tags(doc, std::slice::from_ref(&igw_id));
    })?;
    Outcome::done(new)
}
