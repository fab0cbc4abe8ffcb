//! `DescribeAvailabilityZones`, `DescribeRegions` and STS `GetCallerIdentity`.
//!
//! Every region has the zones `a` to `f` (`us-east-1a` ... `us-east-1f`, zone IDs
//! `use1-az1` ... `use1-az6`), all `available`; the zones are the request's region's.
//! The regions are AWS's usual commercial ones and every region of the topology. The
//! caller's identity is its account's root: `arn:aws:iam::<account>:root`.

use super::{AZ_LETTERS, Ctx, Outcome, az_id, az_name};
use crate::error::ApiError;
use crate::filter::{Filterable, page};
use crate::xml::Xml;

struct Zone {
    region: String,
    letter: &'static str,
}

impl Filterable for Zone {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let v = match name {
            "state" | "zone-state" => "available".to_owned(),
            "zone-name" => az_name(&self.region, self.letter),
            "zone-id" => az_id(&self.region, self.letter),
            "region-name" | "group-name" | "network-border-group" => self.region.clone(),
            "zone-type" => "availability-zone".to_owned(),
            "opt-in-status" => "opt-in-not-required".to_owned(),
            _ => return None,
        };
        Some(vec![v])
    }

    fn tags(&self) -> &[(String, String)] {
        &[]
    }
}

/// `DescribeAvailabilityZones`: `ZoneName.N`, `ZoneId.N`, `Filter.N` (`state`,
/// `zone-name`, `zone-id`, `region-name`, `zone-type`, `group-name`, ...).
pub fn describe_availability_zones(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let region = &ctx.caller.region;
    let names = ctx.p.strings("ZoneName");
    let zone_ids = ctx.p.strings("ZoneId");
    for n in &names {
        if !AZ_LETTERS.iter().any(|l| &az_name(region, l) == n) {
            return Err(ApiError::invalid_value(format!(
                "The zone '{n}' does not exist in region {region}"
            )));
        }
    }
    let zones: Vec<Zone> = AZ_LETTERS
        .iter()
        .filter(|l| names.is_empty() || names.contains(&az_name(region, l)))
        .filter(|l| zone_ids.is_empty() || zone_ids.contains(&az_id(region, l)))
        .map(|&letter| Zone {
            region: region.clone(),
            letter,
        })
        .collect();
    let (zones, _) = page(ctx.p, zones)?;
    let mut x = Xml::new();
    x.set("availabilityZoneInfo", &zones, |x, z| {
        x.leaf("zoneName", az_name(&z.region, z.letter))
            .leaf("zoneState", "available")
            .leaf("regionName", &z.region)
            .leaf("zoneId", az_id(&z.region, z.letter))
            .leaf("optInStatus", "opt-in-not-required")
            .leaf("groupName", &z.region)
            .leaf("networkBorderGroup", &z.region)
            .leaf("zoneType", "availability-zone")
            .raw("<messageSet/>");
    });
    Outcome::read(x.finish())
}

/// The regions `DescribeRegions` lists besides those of the topology.
const REGIONS: [&str; 17] = [
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

struct Region(String);

impl Filterable for Region {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let v = match name {
            "region-name" => self.0.clone(),
            "endpoint" => endpoint(&self.0),
            "opt-in-status" => "opt-in-not-required".to_owned(),
            _ => return None,
        };
        Some(vec![v])
    }

    fn tags(&self) -> &[(String, String)] {
        &[]
    }
}

fn endpoint(region: &str) -> String {
    format!("ec2.{region}.amazonaws.com")
}

/// `DescribeRegions`: `RegionName.N`, `Filter.N` (`region-name`, `endpoint`,
/// `opt-in-status`); `AllRegions` changes nothing (every region is opted in).
pub fn describe_regions(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let mut all: Vec<String> = REGIONS.iter().map(|r| r.to_string()).collect();
    let used = ctx
        .t
        .vpcs
        .iter()
        .map(|v| &v.region)
        .chain(ctx.t.transit_gateways.iter().map(|g| &g.region));
    for r in used.chain(std::iter::once(&ctx.caller.region)) {
        if !all.contains(r) {
            all.push(r.clone());
        }
    }
    all.sort();
    let wanted = ctx.p.strings("RegionName");
    for w in &wanted {
        if !all.contains(w) {
            return Err(ApiError::invalid_value(format!("Invalid region: {w}")));
        }
    }
    let regions: Vec<Region> = all
        .into_iter()
        .filter(|r| wanted.is_empty() || wanted.contains(r))
        .map(Region)
        .collect();
    let (regions, _) = page(ctx.p, regions)?;
    let mut x = Xml::new();
    x.set("regionInfo", &regions, |x, r| {
        x.leaf("regionName", &r.0)
            .leaf("regionEndpoint", endpoint(&r.0))
            .leaf("optInStatus", "opt-in-not-required");
    });
    Outcome::read(x.finish())
}

/// STS `GetCallerIdentity`: the account's root.
pub fn get_caller_identity(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let account = &ctx.caller.account;
    let mut x = Xml::new();
    x.leaf("Arn", format!("arn:aws:iam::{account}:root"))
        .leaf("UserId", account)
        .leaf("Account", account);
    Outcome::read(x.finish())
}
