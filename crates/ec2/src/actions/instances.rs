//! `RunInstances`, `DescribeInstances`, `DescribeInstanceStatus`,
//! `DescribeInstanceAttribute`, `ModifyInstanceAttribute`, `TerminateInstances`,
//! `DescribeVolumes`, `DescribeInstanceCreditSpecifications`.
//!
//! An instance is an `[[instance]]` of the configuration, i.e. a network namespace the
//! daemon creates when the topology is applied. `RunInstances` appends one table per
//! instance: the primary interface from the top-level `SubnetId`, `PrivateIpAddress`,
//! `SecurityGroupId.N` / `SecurityGroup.N` (the AWS CLI's form) or from
//! `NetworkInterface.N.*` (Terraform's form; more items are more interfaces); an
//! address left out is the first free assignable one of the subnet (AWS's five
//! reserved addresses, every interface's, NAT gateway's and transit gateway
//! attachment's address skipped); no groups: the VPC's default group; a public address
//! (`public_ip`, from vpcd's public ranges) when `AssociatePublicIpAddress` or else the
//! subnet's `MapPublicIpOnLaunch` asks for one. What the topology does not have is kept
//! in the instance's launch keys (image, type, key name, user data, launch time = the
//! request's time, client token, shutdown behaviour, termination and stop
//! protection). Names: the `Name` tag (`web`, then `web-2`, `web-3`... for more than
//! one) if free, else the instance ID. The same `ClientToken` again answers the same
//! reservation and launches nothing (the parameters are not compared).
//!
//! States: `RunInstances` answers `pending` (0), `DescribeInstances` shows every
//! instance of the topology `running` (16). `TerminateInstances` answers previous
//! `running`, current `shutting-down` (32), removes the instance (its namespace goes)
//! and leaves a `[[terminated_instance]]` record, which `DescribeInstances` shows as
//! `terminated` (48) for an hour, as AWS does; the next `RunInstances` or
//! `TerminateInstances` after that hour forgets it. What referred to the instance goes
//! with it: its interfaces' routes (AWS keeps them as `blackhole`), Elastic IP
//! associations, flow logs and multicast group entries, and the tags of its interfaces
//! and root volume. `DisableApiTermination` makes `TerminateInstances` fail with
//! `OperationNotPermitted`.
//!
//! Every instance has one root volume, made up: `vol-` derived from the instance ID,
//! 8 GiB gp3 on `/dev/xvda`, attached at launch, deleted with the instance.
//! Reservations are not kept either: the reservation ID is derived from the client
//! token (so instances launched together share it), or from the instance ID.

use std::net::Ipv4Addr;
use std::time::{Duration, UNIX_EPOCH};

use vpc_config::addressing::{INTERNET_ROUTER, PUBLIC_RANGES, usable};
use vpc_config::{
    EniId, Launch, SecurityGroupId, SubnetId, TerminatedInstance, TgwAttachmentKind, Topology,
    VpcId,
};

use super::images::{self, IMAGES, INSTANCE_TYPES, ROOT_DEVICE, ROOT_VOLUME_GIB};
use super::interfaces::{self, derived, eni_id, group_set, groups, private_dns, public_dns};
use super::metadata;
use super::{
    Ctx, Outcome, array, az_id, az_name, commit, drop_document_tags, edit_document, key, not_found,
    set_tags, tag_set, valid_name,
};
use crate::error::ApiError;
use crate::filter::{Filterable, page};
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// How long a terminated instance is shown (AWS: about an hour).
pub const TERMINATED_SHOWN: Duration = Duration::from_secs(3600);

/// The most instances one `RunInstances` launches.
pub const MAX_COUNT: i64 = 20;

// ---------------------------------------------------------------------------------
// Times

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `secs` since the epoch as AWS writes times: `2025-12-06T05:46:40.000Z`.
pub fn format_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Seconds since the epoch of an RFC 3339 UTC time (fractions ignored).
pub fn parse_time(s: &str) -> Option<u64> {
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok());
    let days = days_from_civil(n(0..4)?, n(5..7)?, n(8..10)?);
    let secs = days * 86_400 + n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)?;
    u64::try_from(secs).ok()
}

fn now_secs(ctx: &Ctx<'_>) -> u64 {
    ctx.now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The launch time shown: the kept one, else the epoch (an instance written by hand).
pub fn launch_time(l: &Launch) -> String {
    match l.launch_time.as_deref().and_then(parse_time) {
        Some(s) => format_time(s),
        None => format_time(0),
    }
}

// ---------------------------------------------------------------------------------
// What every view shares

/// The image shown for launch keys `l` (the catalog's first without one).
pub fn image_id(l: &Launch) -> &str {
    l.image_id.as_deref().unwrap_or(IMAGES[0].id)
}

/// The instance type shown for launch keys `l` (the catalog's first without one).
pub fn type_name(l: &Launch) -> &str {
    l.instance_type.as_deref().unwrap_or(INSTANCE_TYPES[0].name)
}

pub fn architecture(l: &Launch) -> &'static str {
    images::image(image_id(l))
        .map(|i| i.architecture)
        .unwrap_or("x86_64")
}

/// The reservation ID of an instance with ID `id` and launch keys `l`.
fn reservation_id(id: &str, l: &Launch) -> String {
    match &l.client_token {
        Some(token) => derived("r-", &format!("r/{token}")),
        None => derived("r-", &format!("r/{id}")),
    }
}

/// The root volume ID of instance `id`.
pub fn volume_id(id: &str) -> String {
    derived("vol-", &format!("vol/{id}"))
}

/// An instance of either list: running (index in `instances`) or terminated (index in
/// `terminated_instances`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Live(usize),
    Gone(usize),
}

impl Which {
    fn name(self, t: &Topology) -> &str {
        match self {
            Which::Live(i) => &t.instances[i].name,
            Which::Gone(i) => &t.terminated_instances[i].name,
        }
    }

    fn id(self, t: &Topology) -> String {
        ids::id(Kind::Instance, self.name(t))
    }

    fn launch(self, t: &Topology) -> &Launch {
        match self {
            Which::Live(i) => &t.instances[i].launch,
            Which::Gone(i) => &t.terminated_instances[i].launch,
        }
    }

    /// (code, name) of its state as `DescribeInstances` shows it.
    fn state(self) -> (u8, &'static str) {
        match self {
            Which::Live(_) => (16, "running"),
            Which::Gone(_) => (48, "terminated"),
        }
    }

    /// Region and zone letter.
    fn zone(self, t: &Topology) -> (String, Option<String>) {
        match self {
            Which::Live(i) => {
                let e = t.instances[i].enis[0];
                let s = t.subnet(t.eni(e).subnet);
                (t.vpc(s.vpc).region.clone(), Some(s.az.clone()))
            }
            Which::Gone(i) => {
                let g = &t.terminated_instances[i];
                (g.region.clone(), g.az.clone())
            }
        }
    }

    fn owner(self, t: &Topology) -> String {
        match self {
            Which::Live(i) => t.vpc(t.eni_vpc(t.instances[i].enis[0])).owner_id.clone(),
            Which::Gone(i) => t.terminated_instances[i].owner_id.clone(),
        }
    }
}

/// Whether terminated instance `g` is still shown at `now`.
fn still_shown(g: &TerminatedInstance, now: u64) -> bool {
    g.terminated_time
        .as_deref()
        .and_then(parse_time)
        .is_none_or(|t| t + TERMINATED_SHOWN.as_secs() > now)
}

/// Every instance the caller sees, running ones first.
fn visible(ctx: &Ctx<'_>) -> Vec<Which> {
    let t = ctx.t;
    let now = now_secs(ctx);
    let mut out: Vec<Which> = (0..t.instances.len())
        .filter(|&i| ctx.sees(Kind::Instance, i))
        .map(Which::Live)
        .collect();
    out.extend(
        t.terminated_instances
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                g.owner_id == ctx.caller.account
                    && g.region == ctx.caller.region
                    && still_shown(g, now)
            })
            .map(|(i, _)| Which::Gone(i)),
    );
    out
}

/// The instance `id` (ID or name) names, running or terminated.
fn find(ctx: &Ctx<'_>, id: &str) -> Result<Which, ApiError> {
    let all = visible(ctx);
    let t = ctx.t;
    all.iter()
        .find(|w| w.id(t) == id)
        .or_else(|| all.iter().find(|w| w.name(t) == id))
        .copied()
        .ok_or_else(|| not_found(Kind::Instance, id))
}

/// The instances of `InstanceId.N`, or every visible one.
fn wanted(ctx: &Ctx<'_>) -> Result<Vec<Which>, ApiError> {
    let ids = ctx.p.strings("InstanceId");
    if ids.is_empty() {
        return Ok(visible(ctx));
    }
    let mut out = Vec::new();
    for id in &ids {
        let w = find(ctx, id)?;
        if !out.contains(&w) {
            out.push(w);
        }
    }
    Ok(out)
}

fn state_xml(x: &mut Xml, name: &str, (code, state): (u8, &str)) {
    x.open(name)
        .leaf("code", code)
        .leaf("name", state)
        .close(name);
}

/// The elements of one `Instance`, in state `state`.
fn instance_xml(ctx: &Ctx<'_>, x: &mut Xml, w: Which, state: (u8, &str)) {
    let t = ctx.t;
    let id = w.id(t);
    let l = w.launch(t);
    let (region, az) = w.zone(t);
    let ty = images::instance_type(type_name(l));
    let vcpus = ty.map_or(2, |t| t.vcpus);
    let threads = if vcpus > 1 { 2 } else { 1 };
    x.leaf("instanceId", &id).leaf("imageId", image_id(l));
    state_xml(x, "instanceState", state);
    let live = match w {
        Which::Live(i) => Some(&t.instances[i]),
        Which::Gone(_) => None,
    };
    let eth0 = live.map(|i| i.enis[0]);
    match eth0 {
        Some(e) => {
            let eni = t.eni(e);
            let vpc = t.vpc(t.eni_vpc(e));
            let public = t.eni_public_ip(e);
            x.leaf("privateDnsName", private_dns(&vpc.region, eni.private_ip))
                .leaf(
                    "dnsName",
                    match public {
                        Some(ip) if vpc.enable_dns_hostnames => public_dns(&vpc.region, ip),
                        _ => String::new(),
                    },
                )
                .leaf("reason", "");
        }
        None => {
            let when = match w {
                Which::Gone(i) => t.terminated_instances[i]
                    .terminated_time
                    .as_deref()
                    .and_then(parse_time)
                    .map(format_time)
                    .unwrap_or_default(),
                Which::Live(_) => String::new(),
            };
            x.leaf("privateDnsName", "")
                .leaf("dnsName", "")
                .leaf("reason", format!("User initiated ({when})"));
        }
    }
    x.opt("keyName", l.key_name.as_deref())
        .leaf("amiLaunchIndex", 0)
        .raw("<productCodes/>")
        .leaf("instanceType", type_name(l))
        .leaf("launchTime", launch_time(l))
        .open("placement");
    if let Some(az) = &az {
        x.leaf("availabilityZone", az_name(&region, az))
            .leaf("availabilityZoneId", az_id(&region, az));
    }
    x.leaf("groupName", "")
        .leaf("tenancy", "default")
        .close("placement")
        .open("monitoring")
        .leaf("state", "disabled")
        .close("monitoring");
    if let Some(e) = eth0 {
        let eni = t.eni(e);
        let vpc = t.vpc(t.eni_vpc(e));
        x.leaf(
            "subnetId",
            ids::id(Kind::Subnet, &t.subnet(eni.subnet).name),
        )
        .leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("privateIpAddress", eni.private_ip)
        .opt("ipAddress", t.eni_public_ip(e))
        .leaf("sourceDestCheck", eni.source_dest_check);
        group_set(x, &groups(t, e));
    } else {
        x.raw("<groupSet/>");
        x.open("stateReason")
            .leaf("code", "Client.UserInitiatedShutdown")
            .leaf(
                "message",
                "Client.UserInitiatedShutdown: User initiated shutdown",
            )
            .close("stateReason");
    }
    x.leaf("architecture", architecture(l))
        .leaf("rootDeviceType", "ebs")
        .leaf("rootDeviceName", ROOT_DEVICE)
        .open("blockDeviceMapping");
    if live.is_some() {
        x.open("item")
            .leaf("deviceName", ROOT_DEVICE)
            .open("ebs")
            .leaf("volumeId", volume_id(&id))
            .leaf("status", "attached")
            .leaf("attachTime", launch_time(l))
            .leaf("deleteOnTermination", true)
            .close("ebs")
            .close("item");
    }
    x.close("blockDeviceMapping")
        .leaf("virtualizationType", "hvm")
        .opt("clientToken", l.client_token.as_deref());
    tag_set(x, &ctx.shown_tags(Kind::Instance, w.name(t)));
    x.leaf("hypervisor", "xen").open("networkInterfaceSet");
    if let Some(inst) = live {
        for &e in &inst.enis {
            x.open("item");
            interfaces::instance_eni_xml(ctx, x, e);
            x.close("item");
        }
    }
    x.close("networkInterfaceSet")
        .leaf("ebsOptimized", false)
        .leaf("enaSupport", true)
        .open("cpuOptions")
        .leaf("coreCount", vcpus / threads)
        .leaf("threadsPerCore", threads)
        .close("cpuOptions")
        .open("capacityReservationSpecification")
        .leaf("capacityReservationPreference", "open")
        .close("capacityReservationSpecification")
        .open("hibernationOptions")
        .leaf("configured", false)
        .close("hibernationOptions");
    metadata::options_xml(x, "metadataOptions", &l.metadata_options, "applied");
    x.open("enclaveOptions")
        .leaf("enabled", false)
        .close("enclaveOptions")
        .leaf("bootMode", "uefi-preferred")
        .leaf("platformDetails", "Linux/UNIX")
        .leaf("usageOperation", "RunInstances")
        .leaf("usageOperationUpdateTime", launch_time(l))
        .open("privateDnsNameOptions")
        .leaf("hostnameType", "ip-name")
        .leaf("enableResourceNameDnsARecord", false)
        .leaf("enableResourceNameDnsAAAARecord", false)
        .close("privateDnsNameOptions")
        .open("maintenanceOptions")
        .leaf("autoRecovery", "default")
        .close("maintenanceOptions")
        .leaf("currentInstanceBootMode", "legacy-bios");
}

/// The elements of a `Reservation` of instances `ws`, each in the state `state` gives.
fn reservation_xml(
    ctx: &Ctx<'_>,
    x: &mut Xml,
    ws: &[Which],
    state: impl Fn(Which) -> (u8, &'static str),
) {
    let t = ctx.t;
    let Some(&first) = ws.first() else {
        return;
    };
    x.leaf(
        "reservationId",
        reservation_id(&first.id(t), first.launch(t)),
    )
    .leaf("ownerId", first.owner(t))
    .raw("<groupSet/>")
    .set("instancesSet", ws, |x, &w| {
        instance_xml(ctx, x, w, state(w))
    });
}

// ---------------------------------------------------------------------------------
// DescribeInstances

struct Item<'c> {
    which: Which,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Item<'_> {
    fn enis(&self) -> Vec<EniId> {
        match self.which {
            Which::Live(i) => self.ctx.t.instances[i].enis.clone(),
            Which::Gone(_) => Vec::new(),
        }
    }

    fn per_eni(&self, f: impl Fn(&Topology, EniId) -> Vec<String>) -> Option<Vec<String>> {
        Some(
            self.enis()
                .into_iter()
                .flat_map(|e| f(self.ctx.t, e))
                .collect(),
        )
    }

    /// One part of each of `eth0`'s groups (ID, name).
    fn eth0_groups(&self, part: impl Fn((String, String)) -> String) -> Vec<String> {
        self.enis()
            .first()
            .map(|&e| groups(self.ctx.t, e).into_iter().map(&part).collect())
            .unwrap_or_default()
    }

    fn eth0(&self, f: impl Fn(&Topology, EniId) -> String) -> Option<Vec<String>> {
        Some(
            self.enis()
                .first()
                .map(|&e| f(self.ctx.t, e))
                .into_iter()
                .collect(),
        )
    }
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let w = self.which;
        let l = w.launch(t);
        let one = |s: String| Some(vec![s]);
        let (region, az) = w.zone(t);
        match name {
            "instance-id" => one(w.id(t)),
            "instance-state-name" => one(w.state().1.to_owned()),
            "instance-state-code" => one(w.state().0.to_string()),
            "instance-type" => one(type_name(l).to_owned()),
            "image-id" => one(image_id(l).to_owned()),
            "architecture" => one(architecture(l).to_owned()),
            "availability-zone" => Some(az.iter().map(|a| az_name(&region, a)).collect()),
            "key-name" => Some(l.key_name.iter().cloned().collect()),
            "client-token" => Some(l.client_token.iter().cloned().collect()),
            "launch-time" => one(launch_time(l)),
            "reservation-id" => one(reservation_id(&w.id(t), l)),
            "owner-id" => one(w.owner(t)),
            "root-device-type" => one("ebs".to_owned()),
            "root-device-name" => one(ROOT_DEVICE.to_owned()),
            "virtualization-type" => one("hvm".to_owned()),
            "hypervisor" => one("xen".to_owned()),
            "tenancy" => one("default".to_owned()),
            "platform-details" => one("Linux/UNIX".to_owned()),
            "monitoring-state" => one("disabled".to_owned()),
            "block-device-mapping.volume-id" => match w {
                Which::Live(_) => one(volume_id(&w.id(t))),
                Which::Gone(_) => Some(Vec::new()),
            },
            "vpc-id" => self.eth0(|t, e| ids::id(Kind::Vpc, &t.vpc(t.eni_vpc(e)).name)),
            "subnet-id" => self.eth0(|t, e| ids::id(Kind::Subnet, &t.subnet(t.eni(e).subnet).name)),
            "private-ip-address" => self.eth0(|t, e| t.eni(e).private_ip.to_string()),
            "private-dns-name" => {
                self.eth0(|t, e| private_dns(&t.vpc(t.eni_vpc(e)).region, t.eni(e).private_ip))
            }
            "ip-address" => self
                .per_eni(|t, e| t.eni_public_ip(e).iter().map(|i| i.to_string()).collect())
                .map(|v| v.into_iter().take(1).collect()),
            "source-dest-check" => self.eth0(|t, e| t.eni(e).source_dest_check.to_string()),
            "instance.group-id" | "group-id" => Some(self.eth0_groups(|(id, _)| id)),
            "instance.group-name" | "group-name" => Some(self.eth0_groups(|(_, name)| name)),
            "network-interface.network-interface-id" => self.per_eni(|t, e| vec![eni_id(t, e)]),
            "network-interface.subnet-id" => {
                self.per_eni(|t, e| vec![ids::id(Kind::Subnet, &t.subnet(t.eni(e).subnet).name)])
            }
            "network-interface.vpc-id" => {
                self.per_eni(|t, e| vec![ids::id(Kind::Vpc, &t.vpc(t.eni_vpc(e)).name)])
            }
            "network-interface.addresses.private-ip-address"
            | "network-interface.private-ip-address" => {
                self.per_eni(|t, e| vec![t.eni(e).private_ip.to_string()])
            }
            "network-interface.group-id" => {
                self.per_eni(|t, e| groups(t, e).into_iter().map(|(id, _)| id).collect())
            }
            "network-interface.source-dest-check" => {
                self.per_eni(|t, e| vec![t.eni(e).source_dest_check.to_string()])
            }
            "network-interface.attachment.device-index" => {
                self.per_eni(|t, e| vec![t.eni(e).device_index.to_string()])
            }
            other => metadata::filter_values(&l.metadata_options, other),
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

fn items<'c>(ctx: &'c Ctx<'c>, ws: Vec<Which>) -> Vec<Item<'c>> {
    ws.into_iter()
        .map(|w| Item {
            which: w,
            tags: ctx.shown_tags(Kind::Instance, w.name(ctx.t)),
            ctx,
        })
        .collect()
}

/// `MaxResults` with `InstanceId.N` is `InvalidParameterCombination`, as in AWS.
fn check_paging(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.p.str("MaxResults").is_some() && !ctx.p.strings("InstanceId").is_empty() {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
        ));
    }
    Ok(())
}

/// `DescribeInstances`: `InstanceId.N`, `Filter.N`, `MaxResults`, `NextToken` (pages
/// count instances; consecutive instances of one reservation share its element).
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    check_paging(ctx)?;
    let (items, next) = page(ctx.p, items(ctx, wanted(ctx)?))?;
    let t = ctx.t;
    let mut groups: Vec<Vec<Which>> = Vec::new();
    for item in &items {
        let w = item.which;
        let r = reservation_id(&w.id(t), w.launch(t));
        match groups.last_mut() {
            Some(g) if reservation_id(&g[0].id(t), g[0].launch(t)) == r => g.push(w),
            _ => groups.push(vec![w]),
        }
    }
    let mut x = Xml::new();
    x.set("reservationSet", &groups, |x, g| {
        reservation_xml(ctx, x, g, Which::state)
    });
    x.opt("nextToken", next);
    Outcome::read(x.finish())
}

// ---------------------------------------------------------------------------------
// RunInstances

/// One interface to create.
struct NewEni {
    subnet: SubnetId,
    private_ip: Option<Ipv4Addr>,
    groups: Vec<SecurityGroupId>,
    public: Option<bool>,
}

/// Tags of `TagSpecification.N` per resource type (`instance`, `volume`,
/// `network-interface`).
#[derive(Default)]
struct LaunchTags {
    instance: Vec<(String, String)>,
    volume: Vec<(String, String)>,
    eni: Vec<(String, String)>,
}

fn launch_tags(ctx: &Ctx<'_>) -> Result<LaunchTags, ApiError> {
    let mut out = LaunchTags::default();
    for spec in ctx.p.list("TagSpecification") {
        let ty = spec.str("ResourceType").unwrap_or("instance");
        let list = match ty {
            "instance" => &mut out.instance,
            "volume" => &mut out.volume,
            "network-interface" => &mut out.eni,
            other => {
                return Err(ApiError::invalid_value(format!(
                    "'{other}' is not a valid taggable resource type for this operation."
                )));
            }
        };
        for tag in spec.list("Tag") {
            let k = tag.str("Key").ok_or_else(|| {
                ApiError::missing(
                    "The request must contain the parameter TagSpecification.N.Tag.N.Key",
                )
            })?;
            list.retain(|(x, _)| x != k);
            list.push((k.to_owned(), tag.str("Value").unwrap_or("").to_owned()));
        }
    }
    Ok(out)
}

fn parse_ip(s: &str) -> Result<Ipv4Addr, ApiError> {
    s.parse().map_err(|_| {
        ApiError::invalid_value(format!(
            "Invalid value '{s}' for IP address. The address is not a valid IPv4 address."
        ))
    })
}

/// The security groups named by IDs and (top level only) names, in VPC `vpc`.
fn launch_groups(
    ctx: &Ctx<'_>,
    vpc: VpcId,
    subnet: SubnetId,
    group_ids: &[String],
    group_names: &[String],
) -> Result<Vec<SecurityGroupId>, ApiError> {
    let t = ctx.t;
    let subnet_id = ids::id(Kind::Subnet, &t.subnet(subnet).name);
    let mut ids_all: Vec<String> = group_ids.to_vec();
    for name in group_names {
        let g = t
            .security_groups
            .iter()
            .position(|g| g.vpc == vpc && &g.name == name)
            .ok_or_else(|| {
                ApiError::new(
                    "InvalidGroup.NotFound",
                    format!(
                        "The security group '{name}' does not exist in VPC '{}'",
                        ids::id(Kind::Vpc, &t.vpc(vpc).name)
                    ),
                )
            })?;
        ids_all.push(ids::id(
            Kind::SecurityGroup,
            &format!("{}/{}", t.vpc(vpc).name, t.security_groups[g].name),
        ));
    }
    let groups = interfaces::resolve_groups(ctx, vpc, &ids_all, &subnet_id)?;
    Ok(if groups.is_empty() {
        vec![t.vpc(vpc).default_security_group]
    } else {
        groups
    })
}

/// The interfaces a `RunInstances` request asks for, `eth0` first.
fn requested_enis(ctx: &Ctx<'_>) -> Result<Vec<NewEni>, ApiError> {
    let p = ctx.p;
    let specs = p.list("NetworkInterface");
    let top_groups = p.strings("SecurityGroupId");
    let top_names = p.strings("SecurityGroup");
    if specs.is_empty() {
        let subnet_id = p.str("SubnetId").ok_or_else(|| {
            ApiError::new(
                "VPCIdNotSpecified",
                "No default VPC for this user (vpcd has none): give SubnetId or NetworkInterface.1.SubnetId",
            )
        })?;
        let subnet = SubnetId(ctx.find(Kind::Subnet, subnet_id)? as u32);
        let vpc = ctx.t.subnet(subnet).vpc;
        return Ok(vec![NewEni {
            subnet,
            private_ip: p.str("PrivateIpAddress").map(parse_ip).transpose()?,
            groups: launch_groups(ctx, vpc, subnet, &top_groups, &top_names)?,
            public: None,
        }]);
    }
    if p.str("SubnetId").is_some() || p.str("PrivateIpAddress").is_some() {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "Network interfaces and an instance-level subnet ID or private IP address may not be specified on the same request",
        ));
    }
    if !top_groups.is_empty() || !top_names.is_empty() {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "Network interfaces and an instance-level security groups may not be specified on the same request",
        ));
    }
    let mut by_index: Vec<(i64, NewEni)> = Vec::new();
    for (n, spec) in specs.iter().enumerate() {
        if spec.str("NetworkInterfaceId").is_some() {
            return Err(ApiError::invalid_value(
                "vpcd does not attach existing network interfaces at launch: give SubnetId",
            ));
        }
        let index = spec.int("DeviceIndex")?.unwrap_or(n as i64);
        if !(0..vpc_config::MAX_ENIS_PER_INSTANCE as i64).contains(&index)
            || by_index.iter().any(|(i, _)| *i == index)
        {
            return Err(ApiError::invalid_value(format!(
                "Each network interface requires a unique device index from 0 to {}",
                vpc_config::MAX_ENIS_PER_INSTANCE - 1
            )));
        }
        let subnet_id = spec.str("SubnetId").ok_or_else(|| {
            ApiError::missing("The request must contain the parameter NetworkInterface.N.SubnetId")
        })?;
        let subnet = SubnetId(ctx.find(Kind::Subnet, subnet_id)? as u32);
        let vpc = ctx.t.subnet(subnet).vpc;
        by_index.push((
            index,
            NewEni {
                subnet,
                private_ip: spec.str("PrivateIpAddress").map(parse_ip).transpose()?,
                groups: launch_groups(ctx, vpc, subnet, &spec.strings("SecurityGroupId"), &[])?,
                public: spec.bool("AssociatePublicIpAddress")?,
            },
        ));
    }
    by_index.sort_by_key(|(i, _)| *i);
    if by_index.first().map(|(i, _)| *i) != Some(0) {
        return Err(ApiError::invalid_value(
            "The primary network interface (DeviceIndex 0) must be given",
        ));
    }
    if by_index.iter().skip(1).any(|(_, e)| e.public == Some(true)) {
        return Err(ApiError::invalid_value(
            "The associatePublicIPAddress parameter can only be specified for the network interface with DeviceIndex 0.",
        ));
    }
    Ok(by_index.into_iter().map(|(_, e)| e).collect())
}

/// The private addresses in use in VPC `vpc`.
fn used_addresses(t: &Topology, vpc: VpcId) -> Vec<Ipv4Addr> {
    let mut used: Vec<Ipv4Addr> = t
        .eni_ids()
        .filter(|&e| t.eni_vpc(e) == vpc)
        .map(|e| t.eni(e).private_ip)
        .collect();
    for n in &t.nat_gateways {
        if t.subnet(n.subnet).vpc == vpc {
            used.extend(&n.private_ips);
        }
    }
    for a in &t.tgw_attachments {
        if let TgwAttachmentKind::Vpc {
            vpc: v,
            private_ips,
            ..
        } = &a.kind
            && *v == vpc
        {
            used.extend(private_ips);
        }
    }
    used
}

/// The public addresses in use.
fn used_public(t: &Topology) -> Vec<Ipv4Addr> {
    let mut used: Vec<Ipv4Addr> = t.elastic_ips.iter().map(|e| e.address).collect();
    used.extend(t.enis.iter().filter_map(|e| e.public_ip));
    used.extend(t.internet_hosts.iter().map(|h| h.address));
    used.push(INTERNET_ROUTER);
    used
}

/// The first public address of vpcd's ranges that is not in `used`.
fn free_public(used: &[Ipv4Addr]) -> Option<Ipv4Addr> {
    PUBLIC_RANGES.iter().find_map(|r| {
        r.hosts()
            .filter(|&ip| ip != r.network() && ip != r.broadcast())
            .find(|ip| !used.contains(ip))
    })
}

/// The topology without the terminated instances no longer shown at `now` (and their
/// tags), in a document.
fn forget_expired(doc: &mut toml::Table, t: &Topology, now: u64) {
    let gone: Vec<&TerminatedInstance> = t
        .terminated_instances
        .iter()
        .filter(|g| !still_shown(g, now))
        .collect();
    if gone.is_empty() {
        return;
    }
    let names: Vec<&str> = gone.iter().map(|g| g.name.as_str()).collect();
    array(doc, "terminated_instance")
        .retain(|x| key(x, "name").is_none_or(|n| !names.contains(&n)));
    let ids: Vec<String> = names.iter().map(|n| ids::id(Kind::Instance, n)).collect();
    drop_document_tags(doc, &ids);
}

/// `RunInstances`: `ImageId`, `InstanceType`, `MinCount`, `MaxCount`, `SubnetId`,
/// `PrivateIpAddress`, `SecurityGroupId.N`, `SecurityGroup.N`,
/// `NetworkInterface.N.{DeviceIndex,SubnetId,PrivateIpAddress,SecurityGroupId.N,
/// AssociatePublicIpAddress}`, `Placement.AvailabilityZone`, `KeyName`, `UserData`,
/// `ClientToken`, `InstanceInitiatedShutdownBehavior`, `DisableApiTermination`,
/// `DisableApiStop`, `TagSpecification.N` (`instance`, `volume`,
/// `network-interface`), `MetadataOptions.{HttpTokens,HttpPutResponseHopLimit,
/// HttpEndpoint}` (see `metadata`). The rest (monitoring, credit specification, block
/// devices...) is accepted and not kept.
pub fn run(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    let token = p.str("ClientToken").filter(|s| !s.is_empty());
    if let Some(token) = token {
        if token.chars().count() > 64 {
            return Err(ApiError::invalid_value(
                "Value for parameter clientToken is invalid: at most 64 characters",
            ));
        }
        let same: Vec<Which> = visible(ctx)
            .into_iter()
            .filter(|w| w.launch(t).client_token.as_deref() == Some(token))
            .collect();
        if !same.is_empty() {
            let mut x = Xml::new();
            reservation_xml(ctx, &mut x, &same, |w| match w {
                Which::Live(_) => (0, "pending"),
                Which::Gone(_) => (48, "terminated"),
            });
            return Outcome::read(x.finish());
        }
    }
    let image = p.required("ImageId")?;
    if images::image(image).is_none() {
        return Err(ApiError::new(
            "InvalidAMIID.NotFound",
            format!("The image id '[{image}]' does not exist"),
        ));
    }
    let ty = p.str("InstanceType").unwrap_or(INSTANCE_TYPES[0].name);
    if images::instance_type(ty).is_none() {
        return Err(ApiError::invalid_value(format!(
            "Invalid value '{ty}' for InstanceType. {}",
            images::unknown_type(ty).message
        )));
    }
    let min = p
        .int("MinCount")?
        .ok_or_else(|| ApiError::missing("The request must contain the parameter MinCount"))?;
    let max = p
        .int("MaxCount")?
        .ok_or_else(|| ApiError::missing("The request must contain the parameter MaxCount"))?;
    if min < 1 || max < min || max > MAX_COUNT {
        return Err(ApiError::invalid_value(format!(
            "MinCount ({min}) and MaxCount ({max}) must be 1 <= MinCount <= MaxCount <= {MAX_COUNT}"
        )));
    }
    let user_data = p.str("UserData").filter(|s| !s.is_empty());
    if let Some(u) = user_data {
        let ok = u.len().is_multiple_of(4)
            && u.trim_end_matches('=').len() + 2 >= u.len()
            && u.trim_end_matches('=')
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
        if !ok {
            return Err(ApiError::invalid_value(
                "Invalid BASE64 encoding of user data.",
            ));
        }
        if u.len() > vpc_config::MAX_USER_DATA_LEN {
            return Err(ApiError::invalid_value(
                "User data is limited to 16384 bytes",
            ));
        }
    }
    let shutdown = p.str("InstanceInitiatedShutdownBehavior");
    if let Some(s) = shutdown
        && s != "stop"
        && s != "terminate"
    {
        return Err(ApiError::invalid_value(format!(
            "Value ({s}) for parameter instanceInitiatedShutdownBehavior is invalid. Expected: 'stop', 'terminate'."
        )));
    }
    let disable_termination = p.bool("DisableApiTermination")?.unwrap_or(false);
    let disable_stop = p.bool("DisableApiStop")?.unwrap_or(false);
    let metadata_options = metadata::requested(p, "MetadataOptions")?;
    let key_name = p.str("KeyName").filter(|s| !s.is_empty());
    let tags = launch_tags(ctx)?;
    let enis = requested_enis(ctx)?;
    let primary = t.subnet(enis[0].subnet);
    let vpc = primary.vpc;
    let region = &t.vpc(vpc).region;
    if enis.iter().any(|e| t.subnet(e.subnet).az != primary.az) {
        return Err(ApiError::invalid_value(
            "All network interfaces of an instance must be in one availability zone",
        ));
    }
    // Terraform sends an empty `Placement.AvailabilityZone`: no zone asked for.
    if let Some(az) = p
        .str("Placement.AvailabilityZone")
        .filter(|az| !az.is_empty())
        && az != az_name(region, &primary.az)
    {
        return Err(ApiError::invalid_value(format!(
            "The subnet is in availability zone {}, not {az}",
            az_name(region, &primary.az)
        )));
    }
    if max > 1 && enis.iter().any(|e| e.private_ip.is_some()) {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "Cannot specify a private IP address when launching more than one instance",
        ));
    }
    // Addresses: written ones must be free; the others are the subnet's first free.
    let mut used = used_addresses(t, vpc);
    for e in &enis {
        if let Some(ip) = e.private_ip {
            let cidr = t.subnet(e.subnet).cidr;
            if !cidr.contains(&ip) {
                return Err(ApiError::invalid_value(format!(
                    "Address {ip} does not fall within the subnet's address range"
                )));
            }
            if used.contains(&ip) {
                return Err(ApiError::new(
                    "InvalidIPAddress.InUse",
                    format!("Address {ip} is in use."),
                ));
            }
            used.push(ip);
        }
    }
    let mut count = 0;
    let mut addresses: Vec<Vec<Ipv4Addr>> = Vec::new();
    'instances: while count < max {
        let mut mine = Vec::new();
        for e in &enis {
            let ip = match e.private_ip {
                Some(ip) => ip,
                None => {
                    let cidr = t.subnet(e.subnet).cidr;
                    match usable(cidr).find(|ip| !used.contains(ip)) {
                        Some(ip) => ip,
                        None => break 'instances,
                    }
                }
            };
            if e.private_ip.is_none() {
                used.push(ip);
            }
            mine.push(ip);
        }
        addresses.push(mine);
        count += 1;
    }
    if count < min {
        return Err(ApiError::new(
            "InsufficientFreeAddressesInSubnet",
            "The specified subnet does not have enough free addresses to satisfy the request.",
        ));
    }
    let public = enis[0].public.unwrap_or(primary.map_public_ip_on_launch);
    let mut used_pub = used_public(t);
    let now = now_secs(ctx);
    let launch_time = format_time(now);
    let base_name = tags
        .instance
        .iter()
        .find(|(k, _)| k == "Name")
        .map(|(_, v)| v.clone());
    let taken_terminated: Vec<String> = t
        .terminated_instances
        .iter()
        .flat_map(|g| [g.name.clone(), ids::id(Kind::Instance, &g.name)])
        .collect();
    let mut names: Vec<String> = Vec::new();
    let mut tables = Vec::new();
    for (n, ips) in addresses.iter().enumerate() {
        let wanted_name = base_name.as_ref().map(|b| {
            if n == 0 {
                b.clone()
            } else {
                format!("{b}-{}", n + 1)
            }
        });
        let name_tags: Vec<(String, String)> = wanted_name
            .iter()
            .filter(|n| valid_name(n))
            .map(|n| ("Name".to_owned(), n.clone()))
            .collect();
        let name = ctx.new_name(Kind::Instance, &name_tags, |x| {
            names.iter().any(|n| n == x) || taken_terminated.iter().any(|n| n == x)
        });
        names.push(name.clone());
        let mut table = toml::Table::new();
        table.insert("name".into(), name.into());
        let mut eni_tables = Vec::new();
        for (d, (e, ip)) in enis.iter().zip(ips).enumerate() {
            let mut x = if d == 0 {
                std::mem::take(&mut table)
            } else {
                toml::Table::new()
            };
            x.insert("subnet".into(), t.subnet(e.subnet).name.clone().into());
            x.insert("private_ip".into(), ip.to_string().into());
            let default = t.vpc(t.subnet(e.subnet).vpc).default_security_group;
            if e.groups != [default] {
                let names: Vec<toml::Value> = e
                    .groups
                    .iter()
                    .map(|&g| t.security_group(g).name.clone().into())
                    .collect();
                x.insert("security_groups".into(), toml::Value::Array(names));
            }
            if d == 0 && public {
                let ip = free_public(&used_pub).ok_or_else(|| {
                    ApiError::new(
                        "AddressLimitExceeded",
                        "vpcd's public address ranges are used up",
                    )
                })?;
                used_pub.push(ip);
                x.insert("public_ip".into(), ip.to_string().into());
            }
            if d == 0 {
                table = x;
            } else {
                eni_tables.push(toml::Value::Table(x));
            }
        }
        let mut put = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                table.insert(k.into(), v.into());
            }
        };
        put("image_id", Some(image));
        put("instance_type", Some(ty));
        put("key_name", key_name);
        put("user_data", user_data);
        put("launch_time", Some(&launch_time));
        put("client_token", token);
        put("instance_initiated_shutdown_behavior", shutdown);
        if disable_termination {
            table.insert("disable_api_termination".into(), true.into());
        }
        if disable_stop {
            table.insert("disable_api_stop".into(), true.into());
        }
        if let Some(options) = metadata::options_table(&metadata_options) {
            table.insert("metadata_options".into(), options.into());
        }
        if !eni_tables.is_empty() {
            table.insert("eni".into(), toml::Value::Array(eni_tables));
        }
        tables.push(toml::Value::Table(table));
    }
    let mut new = edit_document(t, |doc| {
        forget_expired(doc, t, now);
        array(doc, "instance").extend(tables);
    })?;
    for name in &names {
        let id = ids::id(Kind::Instance, name);
        set_tags(&mut new, &id, &tags.instance);
        set_tags(&mut new, &volume_id(&id), &tags.volume);
        for d in 0..enis.len() {
            let eni = ids::id(Kind::NetworkInterface, &format!("{name}/eth{d}"));
            set_tags(&mut new, &eni, &tags.eni);
        }
    }
    let new = commit(&new)?;
    let launched: Vec<Which> = names
        .iter()
        .filter_map(|n| new.instances.iter().position(|i| &i.name == n))
        .map(Which::Live)
        .collect();
    if launched.len() != names.len() {
        return Err(ApiError::invalid_value(
            "the new instances were not created",
        ));
    }
    let view = Ctx { t: &new, ..*ctx };
    let mut x = Xml::new();
    reservation_xml(&view, &mut x, &launched, |_| (0, "pending"));
    Outcome::changed(x.finish(), new)
}

// ---------------------------------------------------------------------------------
// TerminateInstances

/// `TerminateInstances`: `InstanceId.N`. Terminating a terminated instance answers
/// `terminated` twice; one protected instance (`DisableApiTermination`) fails the
/// whole call with `OperationNotPermitted`, as in AWS.
pub fn terminate(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let ids_given = ctx.p.strings("InstanceId");
    if ids_given.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter InstanceId",
        ));
    }
    let mut ws = Vec::new();
    for id in &ids_given {
        let w = find(ctx, id)?;
        if !ws.contains(&w) {
            ws.push(w);
        }
    }
    for &w in &ws {
        if let Which::Live(i) = w
            && t.instances[i].launch.disable_api_termination
        {
            return Err(ApiError::new(
                "OperationNotPermitted",
                format!(
                    "The instance '{}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
                    w.id(t)
                ),
            ));
        }
    }
    let now = now_secs(ctx);
    let live: Vec<usize> = ws
        .iter()
        .filter_map(|w| match w {
            Which::Live(i) => Some(*i),
            Which::Gone(_) => None,
        })
        .collect();
    let mut gone_tags: Vec<String> = Vec::new();
    let mut records = Vec::new();
    let mut eni_names: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for &i in &live {
        let inst = &t.instances[i];
        let id = ids::id(Kind::Instance, &inst.name);
        gone_tags.push(volume_id(&id));
        for &e in &inst.enis {
            gone_tags.push(eni_id(t, e));
            eni_names.push(t.eni_name(e).to_string());
        }
        names.push(inst.name.clone());
        let (region, az) = Which::Live(i).zone(t);
        let owner = Which::Live(i).owner(t);
        let mut r = toml::Table::new();
        r.insert("name".into(), inst.name.clone().into());
        if owner != vpc_config::DEFAULT_ACCOUNT {
            r.insert("owner_id".into(), owner.into());
        }
        if region != vpc_config::DEFAULT_REGION {
            r.insert("region".into(), region.into());
        }
        if let Some(az) = az {
            r.insert("az".into(), az.into());
        }
        let l = &inst.launch;
        for (k, v) in [
            ("image_id", &l.image_id),
            ("instance_type", &l.instance_type),
            ("key_name", &l.key_name),
            ("launch_time", &l.launch_time),
            ("client_token", &l.client_token),
        ] {
            if let Some(v) = v {
                r.insert(k.into(), v.clone().into());
            }
        }
        r.insert("terminated_time".into(), format_time(now).into());
        records.push(toml::Value::Table(r));
    }
    let refers = |v: &toml::Value| {
        key(v, "instance").is_some_and(|n| names.iter().any(|x| x == n))
            || key(v, "network_interface").is_some_and(|n| eni_names.iter().any(|x| x == n))
    };
    let new = edit_document(t, |doc| {
        forget_expired(doc, t, now);
        array(doc, "instance")
            .retain(|x| key(x, "name").is_none_or(|n| !names.iter().any(|m| m == n)));
        for table in array(doc, "route_table") {
            if let Some(toml::Value::Array(routes)) = table.get_mut("route") {
                routes.retain(|r| !refers(r));
            }
        }
        for eip in array(doc, "elastic_ip") {
            if refers(eip)
                && let toml::Value::Table(x) = eip
            {
                x.remove("instance");
                x.remove("network_interface");
            }
        }
        array(doc, "flow_log").retain(|f| !refers(f));
        for d in array(doc, "transit_gateway_multicast_domain") {
            for k in ["group_members", "group_sources"] {
                if let Some(toml::Value::Array(list)) = d.get_mut(k) {
                    list.retain(|m| !refers(m));
                }
            }
        }
        drop_document_tags(doc, &gone_tags);
        array(doc, "terminated_instance").extend(records);
    })?;
    let mut x = Xml::new();
    x.set("instancesSet", &ws, |x, &w| {
        x.leaf("instanceId", w.id(t));
        let (current, previous) = match w {
            Which::Live(_) => ((32, "shutting-down"), (16, "running")),
            Which::Gone(_) => ((48, "terminated"), (48, "terminated")),
        };
        state_xml(x, "currentState", current);
        state_xml(x, "previousState", previous);
    });
    Outcome::changed(x.finish(), new)
}

// ---------------------------------------------------------------------------------
// DescribeInstanceStatus

struct StatusItem {
    which: Which,
    az: Option<String>,
    tags: Vec<(String, String)>,
}

impl Filterable for StatusItem {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let w = self.which;
        let ok = match w {
            Which::Live(_) => "ok",
            Which::Gone(_) => "not-applicable",
        };
        let one = |s: &str| Some(vec![s.to_owned()]);
        match name {
            "instance-state-name" => one(w.state().1),
            "instance-state-code" => one(&w.state().0.to_string()),
            "availability-zone" => Some(self.az.iter().cloned().collect()),
            "instance-status.status" | "system-status.status" => one(ok),
            "instance-status.reachability" | "system-status.reachability" => one(match w {
                Which::Live(_) => "passed",
                Which::Gone(_) => "not-applicable",
            }),
            "event.code" | "event.description" => Some(Vec::new()),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// `DescribeInstanceStatus`: `InstanceId.N`, `IncludeAllInstances` (default: running
/// instances only), `Filter.N`, `MaxResults`, `NextToken`. A running instance is `ok`
/// with reachability `passed` (what the `instance_status_ok` waiter waits for).
pub fn describe_status(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    check_paging(ctx)?;
    let t = ctx.t;
    let all = ctx.p.bool("IncludeAllInstances")?.unwrap_or(false);
    let items: Vec<StatusItem> = wanted(ctx)?
        .into_iter()
        .filter(|w| all || matches!(w, Which::Live(_)))
        .map(|w| {
            let (region, az) = w.zone(t);
            StatusItem {
                which: w,
                az: az.map(|a| az_name(&region, &a)),
                tags: Vec::new(),
            }
        })
        .collect();
    super::described(ctx, "instanceStatusSet", items, |x, item| {
        let w = item.which;
        let (region, az) = w.zone(t);
        x.leaf("instanceId", w.id(t));
        if let Some(az) = &az {
            x.leaf("availabilityZone", az_name(&region, az))
                .leaf("availabilityZoneId", az_id(&region, az));
        }
        state_xml(x, "instanceState", w.state());
        let (status, detail) = match w {
            Which::Live(_) => ("ok", "passed"),
            Which::Gone(_) => ("not-applicable", "not-applicable"),
        };
        for name in ["systemStatus", "instanceStatus", "attachedEbsStatus"] {
            x.open(name).leaf("status", status);
            if matches!(w, Which::Live(_)) {
                x.open("details")
                    .open("item")
                    .leaf("name", "reachability")
                    .leaf("status", detail)
                    .close("item")
                    .close("details");
            }
            x.close(name);
        }
    })
}

// ---------------------------------------------------------------------------------
// Attributes

/// The running instance `InstanceId` names (a terminated one is
/// `IncorrectInstanceState`).
fn live_instance(ctx: &Ctx<'_>) -> Result<usize, ApiError> {
    let id = ctx.p.required("InstanceId")?;
    match find(ctx, id)? {
        Which::Live(i) => Ok(i),
        Which::Gone(_) => Err(ApiError::new(
            "IncorrectInstanceState",
            format!("The instance '{id}' is not in a state from which it can be modified."),
        )),
    }
}

/// `DescribeInstanceAttribute`: `InstanceId`, `Attribute` (`instanceType`, `kernel`,
/// `ramdisk`, `userData`, `disableApiTermination`, `disableApiStop`,
/// `instanceInitiatedShutdownBehavior`, `rootDeviceName`, `blockDeviceMapping`,
/// `productCodes`, `sourceDestCheck` (of `eth0`), `groupSet` (of `eth0`),
/// `ebsOptimized`, `sriovNetSupport`, `enaSupport`, `enclaveOptions`).
pub fn describe_attribute(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let i = live_instance(ctx)?;
    let t = ctx.t;
    let inst = &t.instances[i];
    let l = &inst.launch;
    let eth0 = inst.enis[0];
    let id = ids::id(Kind::Instance, &inst.name);
    let attribute = ctx.p.required("Attribute")?;
    let mut x = Xml::new();
    x.leaf("instanceId", &id);
    let value = |x: &mut Xml, name: &str, v: Option<&str>| {
        x.open(name);
        x.opt("value", v);
        x.close(name);
    };
    let boolean = |x: &mut Xml, name: &str, v: bool| {
        x.open(name).leaf("value", v).close(name);
    };
    match attribute {
        "instanceType" => value(&mut x, "instanceType", Some(type_name(l))),
        "kernel" => value(&mut x, "kernel", None),
        "ramdisk" => value(&mut x, "ramdisk", None),
        "userData" => value(&mut x, "userData", l.user_data.as_deref()),
        "disableApiTermination" => {
            boolean(&mut x, "disableApiTermination", l.disable_api_termination)
        }
        "disableApiStop" => boolean(&mut x, "disableApiStop", l.disable_api_stop),
        "instanceInitiatedShutdownBehavior" => value(
            &mut x,
            "instanceInitiatedShutdownBehavior",
            Some(l.shutdown_behavior.as_deref().unwrap_or("stop")),
        ),
        "rootDeviceName" => value(&mut x, "rootDeviceName", Some(ROOT_DEVICE)),
        "blockDeviceMapping" => {
            x.open("blockDeviceMapping")
                .open("item")
                .leaf("deviceName", ROOT_DEVICE)
                .open("ebs")
                .leaf("volumeId", volume_id(&id))
                .leaf("status", "attached")
                .leaf("attachTime", launch_time(l))
                .leaf("deleteOnTermination", true)
                .close("ebs")
                .close("item")
                .close("blockDeviceMapping");
        }
        "productCodes" => {
            x.raw("<productCodes/>");
        }
        "sourceDestCheck" => boolean(&mut x, "sourceDestCheck", t.eni(eth0).source_dest_check),
        "groupSet" => group_set(&mut x, &groups(t, eth0)),
        "ebsOptimized" => boolean(&mut x, "ebsOptimized", false),
        "sriovNetSupport" => value(&mut x, "sriovNetSupport", Some("simple")),
        "enaSupport" => boolean(&mut x, "enaSupport", true),
        "enclaveOptions" => {
            x.open("enclaveOptions")
                .leaf("enabled", false)
                .close("enclaveOptions");
        }
        other => {
            return Err(ApiError::invalid_value(format!(
                "Value ({other}) for parameter attribute is invalid. Unknown attribute."
            )));
        }
    }
    Outcome::read(x.finish())
}

/// `ModifyInstanceAttribute`: `InstanceId` and `DisableApiTermination.Value`,
/// `DisableApiStop.Value`, `SourceDestCheck.Value` (`eth0`), `GroupId.N` (`eth0`),
/// `InstanceInitiatedShutdownBehavior.Value`, or `Attribute` with `Value`. Changing
/// `InstanceType` or `UserData` needs a stopped instance, which vpcd never has
/// (`IncorrectInstanceState`, as AWS answers for a running one).
pub fn modify_attribute(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let i = live_instance(ctx)?;
    let p = ctx.p;
    let t = ctx.t;
    let id = ids::id(Kind::Instance, &t.instances[i].name);
    let mut new = t.clone();
    let eth0 = t.instances[i].enis[0];
    let mut changed = false;
    let parse_bool = |name: &str, v: &str| match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::invalid_value(format!(
            "Value ({v}) for parameter {name} is invalid. Expected a boolean."
        ))),
    };
    let mut bools: Vec<(&str, bool)> = Vec::new();
    for name in ["DisableApiTermination", "DisableApiStop", "SourceDestCheck"] {
        if let Some(v) = p.bool(&format!("{name}.Value"))? {
            bools.push((name, v));
        }
    }
    let mut shutdown = p
        .str("InstanceInitiatedShutdownBehavior.Value")
        .map(str::to_owned);
    if let Some(attr) = p.str("Attribute") {
        let v = p.str("Value").unwrap_or("");
        match attr {
            "disableApiTermination" => bools.push(("DisableApiTermination", parse_bool(attr, v)?)),
            "disableApiStop" => bools.push(("DisableApiStop", parse_bool(attr, v)?)),
            "sourceDestCheck" => bools.push(("SourceDestCheck", parse_bool(attr, v)?)),
            "instanceInitiatedShutdownBehavior" => shutdown = Some(v.to_owned()),
            "instanceType" | "userData" | "kernel" | "ramdisk" => {
                return Err(stopped_only(&id, attr));
            }
            other => {
                return Err(ApiError::invalid_value(format!(
                    "Value ({other}) for parameter attribute is invalid. vpcd changes disableApiTermination, disableApiStop, sourceDestCheck, instanceInitiatedShutdownBehavior and groupSet."
                )));
            }
        }
    }
    for (name, v) in bools {
        changed = true;
        match name {
            "DisableApiTermination" => new.instances[i].launch.disable_api_termination = v,
            "DisableApiStop" => new.instances[i].launch.disable_api_stop = v,
            _ => new.enis[eth0.index()].source_dest_check = v,
        }
    }
    if let Some(s) = shutdown {
        if s != "stop" && s != "terminate" {
            return Err(ApiError::invalid_value(format!(
                "Value ({s}) for parameter instanceInitiatedShutdownBehavior is invalid. Expected: 'stop', 'terminate'."
            )));
        }
        new.instances[i].launch.shutdown_behavior = Some(s);
        changed = true;
    }
    let group_ids = p.strings("GroupId");
    if !group_ids.is_empty() {
        let subnet_id = ids::id(Kind::Subnet, &t.subnet(t.eni(eth0).subnet).name);
        new.enis[eth0.index()].security_groups =
            interfaces::resolve_groups(ctx, t.eni_vpc(eth0), &group_ids, &subnet_id)?;
        changed = true;
    }
    for (param, attr) in [
        ("InstanceType.Value", "instanceType"),
        ("UserData.Value", "userData"),
        ("Kernel.Value", "kernel"),
        ("Ramdisk.Value", "ramdisk"),
    ] {
        if p.str(param).is_some() {
            return Err(stopped_only(&id, attr));
        }
    }
    if !changed {
        return Err(ApiError::missing(
            "The request must contain an attribute to modify",
        ));
    }
    Outcome::done(commit(&new)?)
}

fn stopped_only(id: &str, attr: &str) -> ApiError {
    ApiError::new(
        "IncorrectInstanceState",
        format!(
            "The instance '{id}' is not in the 'stopped' state, which changing {attr} requires (vpcd's instances never stop)."
        ),
    )
}

// ---------------------------------------------------------------------------------
// DescribeVolumes

struct VolumeItem {
    instance: usize,
    id: String,
    instance_id: String,
    az: String,
    tags: Vec<(String, String)>,
}

impl Filterable for VolumeItem {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let one = |s: &str| Some(vec![s.to_owned()]);
        match name {
            "volume-id" => one(&self.id),
            "attachment.instance-id" => one(&self.instance_id),
            "attachment.device" => one(ROOT_DEVICE),
            "attachment.status" => one("attached"),
            "attachment.delete-on-termination" => one("true"),
            "availability-zone" => one(&self.az),
            "status" => one("in-use"),
            "size" => one(&ROOT_VOLUME_GIB.to_string()),
            "volume-type" => one("gp3"),
            "encrypted" => one("false"),
            "multi-attach-enabled" => one("false"),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// `DescribeVolumes`: `VolumeId.N`, `Filter.N`, `MaxResults`, `NextToken`: the root
/// volume of every running instance.
pub fn describe_volumes(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let all: Vec<VolumeItem> = visible(ctx)
        .into_iter()
        .filter_map(|w| match w {
            Which::Live(i) => Some(i),
            Which::Gone(_) => None,
        })
        .map(|i| {
            let instance_id = ids::id(Kind::Instance, &t.instances[i].name);
            let id = volume_id(&instance_id);
            let (region, az) = Which::Live(i).zone(t);
            let tags = t
                .tags
                .get(&id)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            VolumeItem {
                instance: i,
                az: az.map(|a| az_name(&region, &a)).unwrap_or_default(),
                id,
                instance_id,
                tags,
            }
        })
        .collect();
    let wanted = ctx.p.strings("VolumeId");
    let all = if wanted.is_empty() {
        all
    } else {
        for id in &wanted {
            if !all.iter().any(|v| &v.id == id) {
                return Err(ApiError::new(
                    if id.starts_with("vol-") {
                        "InvalidVolume.NotFound"
                    } else {
                        "InvalidVolumeID.Malformed"
                    },
                    format!("The volume '{id}' does not exist."),
                ));
            }
        }
        all.into_iter().filter(|v| wanted.contains(&v.id)).collect()
    };
    let (items, next) = page(ctx.p, all)?;
    let mut x = Xml::new();
    x.set("volumeSet", &items, |x, v| {
        let l = &t.instances[v.instance].launch;
        let image = image_id(l);
        x.leaf("volumeId", &v.id)
            .leaf("size", ROOT_VOLUME_GIB)
            .leaf(
                "snapshotId",
                format!("snap-{}", image.trim_start_matches("ami-")),
            )
            .leaf("availabilityZone", &v.az)
            .leaf("status", "in-use")
            .leaf("createTime", launch_time(l))
            .open("attachmentSet")
            .open("item")
            .leaf("volumeId", &v.id)
            .leaf("instanceId", &v.instance_id)
            .leaf("device", ROOT_DEVICE)
            .leaf("status", "attached")
            .leaf("attachTime", launch_time(l))
            .leaf("deleteOnTermination", true)
            .close("item")
            .close("attachmentSet")
            .leaf("volumeType", "gp3")
            .leaf("iops", 3000)
            .leaf("throughput", 125)
            .leaf("encrypted", false)
            .leaf("multiAttachEnabled", false);
        tag_set(x, &v.tags);
    });
    x.opt("nextToken", next);
    Outcome::read(x.finish())
}

// ---------------------------------------------------------------------------------
// DescribeInstanceCreditSpecifications

struct CreditItem {
    id: String,
    credits: &'static str,
}

impl Filterable for CreditItem {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        match name {
            "instance-id" => Some(vec![self.id.clone()]),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &[]
    }
}

/// `DescribeInstanceCreditSpecifications`: `InstanceId.N`, `Filter.N` (`instance-id`),
/// `MaxResults`, `NextToken`: the burstable (T) running instances, with their type's
/// default option (`standard` for T2, `unlimited` for T3 and T4g).
pub fn describe_credit_specifications(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let items: Vec<CreditItem> = wanted(ctx)?
        .into_iter()
        .filter(|w| matches!(w, Which::Live(_)))
        .filter_map(|w| {
            let credits = images::instance_type(type_name(w.launch(t)))?.credits?;
            Some(CreditItem {
                id: w.id(t),
                credits,
            })
        })
        .collect();
    super::described(ctx, "instanceCreditSpecificationSet", items, |x, c| {
        x.leaf("instanceId", &c.id).leaf("cpuCredits", c.credits);
    })
}
