//! Transit gateways, their VPC and peering attachments, and the resource shares that
//! let other accounts attach to them, with AWS's rules (Transit Gateway guide:
//! "Transit gateways", "Transit gateway attachments to a VPC", "Transit gateway
//! peering attachments", "Share a transit gateway", "Quotas"):
//!
//! - Names are valid and unique per kind; VPC and peering attachments share one
//!   namespace (route tables name either kind).
//! - A transit gateway's `owner_id` and `region` are checked like a VPC's (see
//!   [`crate::account`]); `amazon_side_asn` is a private ASN, 64512-65534 or
//!   4200000000-4294967294 (default 64512); its options are `"enable"` or
//!   `"disable"`: default route table association and propagation default to enable,
//!   automatic acceptance of shared attachments and multicast support to disable.
//! - A VPC attachment names a declared gateway and VPC, in the same region ("a transit
//!   gateway attaches VPCs of its own region"), and 1 or more subnets of that VPC, at
//!   most one per availability zone, each once. A gateway has one attachment per VPC
//!   (AWS: "A transit gateway cannot have more than one VPC attachment to the same
//!   VPC"; a deleted attachment aside). Each listed subnet gets an interface of the
//!   attachment, whose address is allocated after every interface and NAT gateway
//!   (see `Checker::addresses`). `default_route_table_association` and
//!   `default_route_table_propagation` are `"enable"` (the default: the attachment
//!   takes its gateway's defaults, see [`super::tgw_tables`]) or `"disable"` (it
//!   declines them, as an attachment disassociated from or no longer propagating into
//!   the default table at run time does); `"enable"` is an error when the gateway has
//!   the option disabled.
//! - A VPC whose owner is not the gateway's may be attached only if a resource share
//!   shares the gateway with the VPC's owner. Its status, if omitted, is `available`
//!   when the owners are one or the gateway accepts shared attachments automatically,
//!   else `pending-acceptance` (the gateway's owner has not accepted it yet): vpcd's
//!   reading of a file that AWS cannot have an opinion on. `deleted` is an attachment
//!   deleted at run time, as vpcd writes it back: it carries nothing, has no
//!   associations or propagations, and routes to it are `blackhole`.
//! - A peering attachment joins two different gateways, of any owners and regions, one
//!   attachment per pair (AWS's quota: "Peering attachments between two transit
//!   gateways: 1"; a deleted attachment aside). Its status, if omitted, is `available`
//!   when the gateways have one owner, else `pending-acceptance`.
//! - A resource share names declared transit gateways and account IDs (12 digits),
//!   each once.
//! - A route's `transit_gateway` target is a gateway the table's VPC is attached to,
//!   whatever the attachment's status (a route through an attachment that is not
//!   available is `blackhole`); it is checked with the routes ([`super::routes`]).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use toml::Spanned;

use super::{Checker, account, lookup, names, region};
use crate::account::is_account_id;
use crate::error::{Problem, Reporter};
use crate::fabric::*;
use crate::topology::*;

/// What the transit gateway checks record for the address allocation, the routes, the
/// transit gateway route tables, the multicast domains and `build`.
#[derive(Default)]
pub(super) struct Transit<'a> {
    /// Transit gateway name -> index.
    pub tgw_names: HashMap<&'a str, usize>,
    /// Per transit gateway, in file order.
    pub tgws: Vec<PendingTgw<'a>>,
    /// Per resource share, in file order.
    pub shares: Vec<PendingShare<'a>>,
    /// Attachment name -> index in `atts` (VPC attachments first).
    pub att_names: HashMap<&'a str, usize>,
    /// Per attachment: the VPC attachments in file order, then the peering ones.
    pub atts: Vec<PendingAttachment<'a>>,
    /// Per declared transit gateway route table, in file order.
    pub tables: Vec<super::tgw_tables::PendingTable>,
    /// Transit gateway -> the declared table that is its default one.
    pub default_tables: HashMap<TransitGatewayId, usize>,
    /// Per multicast domain, in file order.
    pub domains: Vec<super::multicast::PendingDomain>,
}

/// A transit gateway being checked; `None` marks a broken value.
pub(super) struct PendingTgw<'a> {
    pub owner: Option<&'a str>,
    pub region: Option<&'a str>,
    pub asn: Option<u32>,
    pub association: Option<bool>,
    pub propagation: Option<bool>,
    pub auto_accept: Option<bool>,
    pub multicast: Option<bool>,
}

/// A resource share being checked: its valid entries.
pub(super) struct PendingShare<'a> {
    pub resources: Vec<TransitGatewayId>,
    pub principals: Vec<&'a str>,
    pub broken: bool,
}

/// A transit gateway attachment being checked.
pub(super) struct PendingAttachment<'a> {
    /// Its gateway (the requester, for a peering attachment; `None`: unknown).
    pub tgw: Option<TransitGatewayId>,
    pub kind: PendingKind<'a>,
    /// `None`: broken.
    pub status: Option<AttachmentStatus>,
    /// Whether anything about it is broken.
    pub broken: bool,
}

/// A subnet of a VPC attachment, with its reference and field path (to report it
/// full).
pub(super) type SubnetRef<'a> = (SubnetId, &'a Spanned<String>, String);

/// What an attachment being checked attaches.
pub(super) enum PendingKind<'a> {
    Vpc {
        /// `None`: unknown.
        vpc: Option<VpcId>,
        /// Its valid subnets, each with its reference and field path.
        subnets: Vec<SubnetRef<'a>>,
        /// The allocated interface address per subnet (`None`: the subnet is full).
        ips: Vec<Option<Ipv4Addr>>,
        /// `None`: broken.
        appliance: Option<bool>,
        /// Whether it takes its gateway's default association and propagation (its
        /// `default_route_table_association` and `default_route_table_propagation`;
        /// `None`: broken).
        defaults: (Option<bool>, Option<bool>),
    },
    Peering {
        /// The accepter (`None`: unknown).
        peer: Option<TransitGatewayId>,
    },
}

/// The topology's transit gateway lists, as `build_transit` makes them.
pub(super) struct BuiltTransit {
    pub transit_gateways: Vec<TransitGateway>,
    pub tgw_attachments: Vec<TgwAttachment>,
    pub resource_shares: Vec<ResourceShare>,
}

impl<'a> Checker<'_, 'a, '_> {
    /// Transit gateways, resource shares, then attachments (which need both).
    pub(super) fn transit_gateways(&mut self) {
        self.tgws();
        self.resource_shares();
        self.tgw_vpc_attachments();
        self.tgw_peering_attachments();
    }

    fn tgws(&mut self) {
        let raw = self.raw;
        self.tr.tgw_names = names(
            self.r,
            "transit_gateway",
            raw.transit_gateway.iter().map(|g| &g.name),
        );
        for (i, g) in raw.transit_gateway.iter().enumerate() {
            let path = format!("transit_gateway[{i}]");
            let r = &mut *self.r;
            let owner = account(r, g.owner_id.as_ref(), format!("{path}.owner_id"));
            let region = region(r, g.region.as_ref(), format!("{path}.region"));
            let asn = match &g.amazon_side_asn {
                None => Some(DEFAULT_TGW_ASN),
                Some(n) => {
                    let v = *n.get_ref();
                    let ok = TGW_ASN_RANGES
                        .iter()
                        .any(|&(lo, hi)| (i64::from(lo)..=i64::from(hi)).contains(&v));
                    if !ok {
                        let field = format!("{path}.amazon_side_asn");
                        r.report(n.span(), field, Problem::BadAsn(v));
                    }
                    ok.then_some(v as u32)
                }
            };
            let option = |r: &mut Reporter<'_>, w: &Option<Spanned<String>>, default, key| {
                enabled(r, w.as_ref(), default, format!("{path}.{key}"))
            };
            let association = option(
                r,
                &g.default_route_table_association,
                true,
                "default_route_table_association",
            );
            let propagation = option(
                r,
                &g.default_route_table_propagation,
                true,
                "default_route_table_propagation",
            );
            let auto_accept = option(
                r,
                &g.auto_accept_shared_attachments,
                false,
                "auto_accept_shared_attachments",
            );
            let multicast = option(r, &g.multicast_support, false, "multicast_support");
            if let Some(d) = &g.description {
                super::security::description(r, d, format!("{path}.description"));
            }
            self.tr.tgws.push(PendingTgw {
                owner,
                region,
                asn,
                association,
                propagation,
                auto_accept,
                multicast,
            });
        }
    }

    fn resource_shares(&mut self) {
        let raw = self.raw;
        names(
            self.r,
            "resource_share",
            raw.resource_share.iter().map(|s| &s.name),
        );
        for (i, sh) in raw.resource_share.iter().enumerate() {
            let path = format!("resource_share[{i}]");
            let mut share = PendingShare {
                resources: Vec::new(),
                principals: Vec::new(),
                broken: false,
            };
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (j, res) in sh.resources.iter().enumerate() {
                let field = format!("{path}.resources[{j}]");
                if !once(self.r, &mut seen, res, "resources", j, &field) {
                    share.broken = true;
                    continue;
                }
                let tgw: Option<TransitGatewayId> = lookup(
                    self.r,
                    &self.tr.tgw_names,
                    res,
                    field,
                    Problem::UnknownTransitGateway,
                );
                match tgw {
                    Some(t) => share.resources.push(t),
                    None => share.broken = true,
                }
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (j, p) in sh.principals.iter().enumerate() {
                let field = format!("{path}.principals[{j}]");
                if !once(self.r, &mut seen, p, "principals", j, &field) {
                    share.broken = true;
                } else if !is_account_id(p.get_ref()) {
                    let problem = Problem::BadAccountId(p.get_ref().clone());
                    self.r.report(p.span(), field, problem);
                    share.broken = true;
                } else {
                    share.principals.push(p.get_ref());
                }
            }
            self.tr.shares.push(share);
        }
    }

    /// Whether transit gateway `tgw` is available to `account`: its owner's, or shared
    /// with it by a resource share.
    fn shared(&self, tgw: TransitGatewayId, account: &str) -> bool {
        self.tr.tgws[tgw.index()].owner == Some(account)
            || self
                .tr
                .shares
                .iter()
                .any(|s| s.resources.contains(&tgw) && s.principals.contains(&account))
    }

    fn tgw_vpc_attachments(&mut self) {
        let raw = self.raw;
        self.tr.att_names = names(
            self.r,
            "transit_gateway_vpc_attachment",
            raw.transit_gateway_vpc_attachment.iter().map(|a| &a.name),
        );
        // (gateway, VPC) -> the attachment that joined them first.
        let mut attached: HashMap<(TransitGatewayId, VpcId), usize> = HashMap::new();
        for (i, a) in raw.transit_gateway_vpc_attachment.iter().enumerate() {
            let path = format!("transit_gateway_vpc_attachment[{i}]");
            let tgw: Option<TransitGatewayId> = lookup(
                self.r,
                &self.tr.tgw_names,
                &a.transit_gateway,
                format!("{path}.transit_gateway"),
                Problem::UnknownTransitGateway,
            );
            let vpc: Option<VpcId> = lookup(
                self.r,
                &self.vpc_names,
                &a.vpc,
                format!("{path}.vpc"),
                Problem::UnknownVpc,
            );
            let mut broken = tgw.is_none() || vpc.is_none();
            let (subnets, subnets_ok) = self.attachment_subnets(&path, vpc, &a.subnets);
            broken |= !subnets_ok;
            let appliance = enabled(
                self.r,
                a.appliance_mode_support.as_ref(),
                false,
                format!("{path}.appliance_mode_support"),
            );
            broken |= appliance.is_none();
            let defaults = (
                self.attachment_default(
                    tgw,
                    a.default_route_table_association.as_ref(),
                    &path,
                    "default_route_table_association",
                ),
                self.attachment_default(
                    tgw,
                    a.default_route_table_propagation.as_ref(),
                    &path,
                    "default_route_table_propagation",
                ),
            );
            broken |= defaults.0.is_none() || defaults.1.is_none();
            let written = attachment_status(self.r, a.status.as_ref(), &path);
            broken |= matches!(written, Some(None));
            let mut status = written.flatten();
            // A deleted attachment does not count: the VPC may be attached again.
            let deleted = status == Some(AttachmentStatus::Deleted);
            if let (Some(t), Some(v)) = (tgw, vpc) {
                let vpc_name = |v: VpcId| raw.vpc[v.index()].name.get_ref().clone();
                let g = &self.tr.tgws[t.index()];
                let (vpc_owner, vpc_region) = self.vpc_accounts[v.index()].unzip();
                let problem = match (vpc_region, g.region) {
                    (Some(vr), Some(gr)) if vr != gr => Some(Problem::AttachmentInOtherRegion {
                        vpc: vpc_name(v),
                        vpc_region: vr.to_owned(),
                        tgw: a.transit_gateway.get_ref().clone(),
                        tgw_region: gr.to_owned(),
                    }),
                    _ => match attached.get(&(t, v)).filter(|_| !deleted) {
                        Some(&other) => Some(Problem::SecondTgwVpcAttachment {
                            vpc: vpc_name(v),
                            tgw: a.transit_gateway.get_ref().clone(),
                            other: raw.transit_gateway_vpc_attachment[other]
                                .name
                                .get_ref()
                                .clone(),
                        }),
                        None => {
                            if !deleted {
                                attached.insert((t, v), i);
                            }
                            None
                        }
                    },
                };
                if let Some(problem) = problem {
                    self.r.report(a.vpc.span(), format!("{path}.vpc"), problem);
                    broken = true;
                }
                if let (Some(vo), Some(go)) = (vpc_owner, g.owner)
                    && vo != go
                    && !self.shared(t, vo)
                {
                    let problem = Problem::TgwNotShared {
                        tgw: a.transit_gateway.get_ref().clone(),
                        owner: go.to_owned(),
                        vpc: vpc_name(v),
                        vpc_owner: vo.to_owned(),
                    };
                    let field = format!("{path}.transit_gateway");
                    self.r.report(a.transit_gateway.span(), field, problem);
                    broken = true;
                }
                if written.is_none() {
                    let g = &self.tr.tgws[t.index()];
                    status = match (vpc_owner, g.owner, g.auto_accept) {
                        (Some(vo), Some(go), _) if vo == go => Some(AttachmentStatus::Available),
                        (Some(_), Some(_), Some(true)) => Some(AttachmentStatus::Available),
                        (Some(_), Some(_), Some(false)) => {
                            Some(AttachmentStatus::PendingAcceptance)
                        }
                        _ => None,
                    };
                }
            }
            self.tr.atts.push(PendingAttachment {
                tgw,
                kind: PendingKind::Vpc {
                    vpc,
                    subnets,
                    ips: Vec::new(),
                    appliance,
                    defaults,
                },
                status,
                broken,
            });
        }
    }

    /// The subnets of a VPC attachment at `path`: 1 or more, each once, of `vpc`, one
    /// per availability zone. Returns the valid ones and whether all were.
    fn attachment_subnets(
        &mut self,
        path: &str,
        vpc: Option<VpcId>,
        list: &'a Spanned<Vec<Spanned<String>>>,
    ) -> (Vec<SubnetRef<'a>>, bool) {
        let raw = self.raw;
        let mut ok = true;
        if list.get_ref().is_empty() {
            let field = format!("{path}.subnets");
            self.r
                .report(list.span(), field, Problem::NoAttachmentSubnets);
            ok = false;
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut zones: HashMap<&str, usize> = HashMap::new();
        let mut subnets = Vec::new();
        for (j, s) in list.get_ref().iter().enumerate() {
            let field = format!("{path}.subnets[{j}]");
            if !once(self.r, &mut seen, s, "subnets", j, &field) {
                ok = false;
                continue;
            }
            let sub: Option<SubnetId> = lookup(
                self.r,
                &self.subnet_names,
                s,
                field.clone(),
                Problem::UnknownSubnet,
            );
            let Some((sub, (subnet_vpc, _))) =
                sub.and_then(|sub| self.subnets[sub.index()].map(|x| (sub, x)))
            else {
                ok = false;
                continue;
            };
            let az = raw.subnet[sub.index()].az.get_ref().as_str();
            let vpc_name = |v: VpcId| raw.vpc[v.index()].name.get_ref().clone();
            let problem = match vpc {
                Some(v) if v != subnet_vpc => Some(Problem::AssociationAcrossVpcs {
                    kind: "transit gateway attachment",
                    subnet: s.get_ref().clone(),
                    subnet_vpc: vpc_name(subnet_vpc),
                    owner_vpc: vpc_name(v),
                }),
                _ => zones.get(az).map(|&k| Problem::SecondAttachmentSubnetInAz {
                    subnet: s.get_ref().clone(),
                    az: az.to_owned(),
                    other: list.get_ref()[k].get_ref().clone(),
                }),
            };
            if let Some(problem) = problem {
                self.r.report(s.span(), field, problem);
                ok = false;
                continue;
            }
            zones.insert(az, j);
            subnets.push((sub, s, field));
        }
        (subnets, ok)
    }

    fn tgw_peering_attachments(&mut self) {
        let raw = self.raw;
        let own = names(
            self.r,
            "transit_gateway_peering_attachment",
            raw.transit_gateway_peering_attachment
                .iter()
                .map(|a| &a.name),
        );
        let first = raw.transit_gateway_vpc_attachment.len();
        for (j, a) in raw.transit_gateway_peering_attachment.iter().enumerate() {
            let name = a.name.get_ref().as_str();
            if own.get(name) != Some(&j) {
                continue;
            }
            match self.tr.att_names.get(name) {
                Some(&index) => {
                    let problem = Problem::DuplicateName {
                        name: name.to_owned(),
                        kind: "transit_gateway_vpc_attachment",
                        index,
                    };
                    let field = format!("transit_gateway_peering_attachment[{j}].name");
                    self.r.report(a.name.span(), field, problem);
                }
                None => {
                    self.tr.att_names.insert(name, first + j);
                }
            }
        }
        // The gateways of a pair, lower id first -> the attachment that peered them.
        let mut pairs: HashMap<(TransitGatewayId, TransitGatewayId), usize> = HashMap::new();
        for (j, a) in raw.transit_gateway_peering_attachment.iter().enumerate() {
            let path = format!("transit_gateway_peering_attachment[{j}]");
            let tgw: Option<TransitGatewayId> = lookup(
                self.r,
                &self.tr.tgw_names,
                &a.transit_gateway,
                format!("{path}.transit_gateway"),
                Problem::UnknownTransitGateway,
            );
            let peer_field = format!("{path}.peer_transit_gateway");
            let peer: Option<TransitGatewayId> = lookup(
                self.r,
                &self.tr.tgw_names,
                &a.peer_transit_gateway,
                peer_field.clone(),
                Problem::UnknownTransitGateway,
            );
            let written = attachment_status(self.r, a.status.as_ref(), &path);
            let mut broken = tgw.is_none() || peer.is_none() || matches!(written, Some(None));
            let mut status = written.flatten();
            let deleted = status == Some(AttachmentStatus::Deleted);
            if let (Some(t), Some(p)) = (tgw, peer) {
                let key = (t.min(p), t.max(p));
                let problem = if t == p {
                    Some(Problem::TgwPeeredWithItself(
                        a.peer_transit_gateway.get_ref().clone(),
                    ))
                } else if let Some(&other) = pairs.get(&key).filter(|_| !deleted) {
                    let name = |g: TransitGatewayId| raw.transit_gateway[g.index()].name.get_ref();
                    Some(Problem::SecondTgwPeering {
                        tgw: name(t).clone(),
                        peer: name(p).clone(),
                        other: raw.transit_gateway_peering_attachment[other]
                            .name
                            .get_ref()
                            .clone(),
                    })
                } else {
                    if !deleted {
                        pairs.insert(key, j);
                    }
                    None
                };
                if let Some(problem) = problem {
                    self.r
                        .report(a.peer_transit_gateway.span(), peer_field, problem);
                    broken = true;
                }
                if written.is_none() {
                    let owner = |g: TransitGatewayId| self.tr.tgws[g.index()].owner;
                    status = match (owner(t), owner(p)) {
                        (Some(a), Some(b)) => Some(AttachmentStatus::new_between(a == b)),
                        _ => None,
                    };
                }
            }
            self.tr.atts.push(PendingAttachment {
                tgw,
                kind: PendingKind::Peering { peer },
                status,
                broken,
            });
        }
    }

    /// A VPC attachment's `key` (`default_route_table_association` or
    /// `default_route_table_propagation`) of the attachment at `path` to gateway `tgw`:
    /// whether it takes the gateway's default, true if omitted. `"enable"` is an error
    /// when the gateway has the option disabled (`None`, reported).
    fn attachment_default(
        &mut self,
        tgw: Option<TransitGatewayId>,
        written: Option<&Spanned<String>>,
        path: &str,
        key: &'static str,
    ) -> Option<bool> {
        let field = format!("{path}.{key}");
        let value = enabled(self.r, written, true, field.clone())?;
        let gateway = tgw.and_then(|g| {
            let p = &self.tr.tgws[g.index()];
            match key {
                "default_route_table_association" => p.association,
                _ => p.propagation,
            }
        });
        if let (Some(w), true, Some(false), Some(g)) = (written, value, gateway, tgw) {
            let tgw = self.raw.transit_gateway[g.index()].name.get_ref().clone();
            let problem = Problem::AttachmentDefaultDisabled { key, tgw };
            self.r.report(w.span(), field, problem);
            return None;
        }
        Some(value)
    }

    /// Whether `vpc` has an attachment to transit gateway `tgw`: `None` when that
    /// cannot be told because an attachment to `tgw` (or to an unknown gateway) has an
    /// unknown VPC.
    pub(super) fn attached_to(&self, tgw: TransitGatewayId, vpc: VpcId) -> Option<bool> {
        let mut unknown = false;
        for a in &self.tr.atts {
            let PendingKind::Vpc { vpc: v, .. } = a.kind else {
                continue;
            };
            match (a.tgw, v) {
                (Some(t), Some(v)) if t == tgw && v == vpc => return Some(true),
                (None, _) => unknown = true,
                (Some(t), None) if t == tgw => unknown = true,
                _ => {}
            }
        }
        (!unknown).then_some(false)
    }

    /// The checked gateways, attachments and shares, for `build` (nothing was
    /// reported).
    pub(super) fn build_transit(&self) -> Option<BuiltTransit> {
        let raw = self.raw;
        let mut transit_gateways = Vec::new();
        for (i, g) in raw.transit_gateway.iter().enumerate() {
            let p = &self.tr.tgws[i];
            transit_gateways.push(TransitGateway {
                name: g.name.get_ref().clone(),
                owner_id: p.owner?.to_owned(),
                region: p.region?.to_owned(),
                amazon_side_asn: p.asn?,
                default_route_table_association: p.association?,
                default_route_table_propagation: p.propagation?,
                auto_accept_shared_attachments: p.auto_accept?,
                multicast_support: p.multicast?,
                default_route_table: None,
                description: g
                    .description
                    .as_ref()
                    .map(|d| d.get_ref().clone())
                    .unwrap_or_default(),
            });
        }
        let names = raw
            .transit_gateway_vpc_attachment
            .iter()
            .map(|a| &a.name)
            .chain(
                raw.transit_gateway_peering_attachment
                    .iter()
                    .map(|a| &a.name),
            );
        let mut tgw_attachments = Vec::new();
        for (a, name) in self.tr.atts.iter().zip(names) {
            if a.broken {
                return None;
            }
            let kind = match &a.kind {
                PendingKind::Vpc {
                    vpc,
                    subnets,
                    ips,
                    appliance,
                    ..
                } => TgwAttachmentKind::Vpc {
                    vpc: (*vpc)?,
                    subnets: subnets.iter().map(|(s, _, _)| *s).collect(),
                    private_ips: ips.iter().copied().collect::<Option<Vec<_>>>()?,
                    appliance_mode: (*appliance)?,
                },
                PendingKind::Peering { peer } => TgwAttachmentKind::Peering { peer: (*peer)? },
            };
            tgw_attachments.push(TgwAttachment {
                name: name.get_ref().clone(),
                transit_gateway: a.tgw?,
                kind,
                status: a.status?,
            });
        }
        let mut resource_shares = Vec::new();
        for (i, sh) in raw.resource_share.iter().enumerate() {
            let p = &self.tr.shares[i];
            if p.broken {
                return None;
            }
            resource_shares.push(ResourceShare {
                name: sh.name.get_ref().clone(),
                resources: p.resources.clone(),
                principals: p.principals.iter().map(|&p| p.to_owned()).collect(),
            });
        }
        Some(BuiltTransit {
            transit_gateways,
            tgw_attachments,
            resource_shares,
        })
    }
}

/// A transit gateway option, `"enable"` or `"disable"`, or `default` if omitted.
pub(super) fn enabled(
    r: &mut Reporter<'_>,
    written: Option<&Spanned<String>>,
    default: bool,
    field: String,
) -> Option<bool> {
    let Some(w) = written else {
        return Some(default);
    };
    match w.get_ref().as_str() {
        "enable" => Some(true),
        "disable" => Some(false),
        other => {
            r.report(w.span(), field, Problem::BadEnableDisable(other.to_owned()));
            None
        }
    }
}

/// A written attachment status: `None` if omitted, `Some(None)` if broken.
fn attachment_status(
    r: &mut Reporter<'_>,
    written: Option<&Spanned<String>>,
    path: &str,
) -> Option<Option<AttachmentStatus>> {
    let w = written?;
    Some(match w.get_ref().as_str() {
        "available" => Some(AttachmentStatus::Available),
        "pending-acceptance" => Some(AttachmentStatus::PendingAcceptance),
        "deleted" => Some(AttachmentStatus::Deleted),
        other => {
            let problem = Problem::BadAttachmentStatus(other.to_owned());
            r.report(w.span(), format!("{path}.status"), problem);
            None
        }
    })
}

/// Records entry `j` of list `list` in `seen`; reports it (at `field`) and returns
/// false if it is there already.
pub(super) fn once<'a>(
    r: &mut Reporter<'_>,
    seen: &mut HashMap<&'a str, usize>,
    entry: &'a Spanned<String>,
    list: &'static str,
    j: usize,
    field: &str,
) -> bool {
    match seen.get(entry.get_ref().as_str()) {
        Some(&index) => {
            let problem = Problem::DuplicateInList {
                name: entry.get_ref().clone(),
                list,
                index,
            };
            r.report(entry.span(), field, problem);
            false
        }
        None => {
            seen.insert(entry.get_ref(), j);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use crate::fabric::*;
    use crate::topology::*;
    use crate::{ConfigError, Problem, parse};

    /// VPC `hub` (10.10.0.0/16) with subnets `hub-a` and `hub-a2` (zone a) and `hub-b`
    /// (zone b) and instance `svc` in `hub-a`; VPC `spoke` (10.11.0.0/16, account
    /// 444455556666) with subnet `spoke-a`; VPC `far` (10.12.0.0/16, eu-west-1) with
    /// subnet `far-a`; transit gateways `tgw` (all defaults) and `tgw-west`
    /// (eu-west-1).
    const BASE: &str = r#"[[vpc]]
name = "hub"
cidr = "10.10.0.0/16"

[[vpc]]
name = "spoke"
cidr = "10.11.0.0/16"
owner_id = "444455556666"

[[vpc]]
name = "far"
cidr = "10.12.0.0/16"
region = "eu-west-1"

[[subnet]]
name = "hub-a"
vpc = "hub"
cidr = "10.10.1.0/24"
az = "a"

[[subnet]]
name = "hub-b"
vpc = "hub"
cidr = "10.10.2.0/24"
az = "b"

[[subnet]]
name = "hub-a2"
vpc = "hub"
cidr = "10.10.3.0/24"
az = "a"

[[subnet]]
name = "spoke-a"
vpc = "spoke"
cidr = "10.11.1.0/24"
az = "a"

[[subnet]]
name = "far-a"
vpc = "far"
cidr = "10.12.1.0/24"
az = "a"

[[instance]]
name = "svc"
subnet = "hub-a"

[[transit_gateway]]
name = "tgw"

[[transit_gateway]]
name = "tgw-west"
region = "eu-west-1"
"#;

    /// Lines in `BASE`: a snippet appended to it starts on line `BASE_LINES + 1`.
    const BASE_LINES: usize = 54;

    snippet_helpers!();

    fn problems(extra: &str) -> Vec<Problem> {
        match parse(&format!("{BASE}{extra}"), "t.toml") {
            Err(ConfigError::Invalid(d)) => d.into_iter().map(|d| d.problem).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    /// A VPC attachment: its `subnets` key is on line 5 of the snippet, `keys` (whole
    /// lines) after it.
    fn att(name: &str, tgw: &str, vpc: &str, subnets: &str, keys: &str) -> String {
        format!(
            "[[transit_gateway_vpc_attachment]]\nname = \"{name}\"\ntransit_gateway = \"{tgw}\"\nvpc = \"{vpc}\"\nsubnets = [{subnets}]\n{keys}\n"
        )
    }

    /// A peering attachment: its `peer_transit_gateway` key is on line 4.
    fn peering(name: &str, tgw: &str, peer: &str, keys: &str) -> String {
        format!(
            "[[transit_gateway_peering_attachment]]\nname = \"{name}\"\ntransit_gateway = \"{tgw}\"\npeer_transit_gateway = \"{peer}\"\n{keys}\n"
        )
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
        ok("");
    }

    #[test]
    fn a_transit_gateway_has_aws_defaults() {
        let t = ok("");
        assert_eq!(
            t.transit_gateways[0],
            TransitGateway {
                name: "tgw".into(),
                owner_id: crate::DEFAULT_ACCOUNT.into(),
                region: crate::DEFAULT_REGION.into(),
                amazon_side_asn: 64512,
                default_route_table_association: true,
                default_route_table_propagation: true,
                auto_accept_shared_attachments: false,
                multicast_support: false,
                default_route_table: Some(TgwRouteTableId(0)),
                description: String::new(),
            }
        );
        assert_eq!(t.tgw_route_tables[0].name, "tgw-default");
        assert_eq!(t.transit_gateways[1].region, "eu-west-1");
        let t = ok(
            "[[transit_gateway]]\nname = \"x\"\nowner_id = \"111122223333\"\namazon_side_asn = 4200000000\ndefault_route_table_association = \"disable\"\ndefault_route_table_propagation = \"disable\"\nauto_accept_shared_attachments = \"enable\"\nmulticast_support = \"enable\"\n",
        );
        let x = &t.transit_gateways[2];
        assert_eq!(x.owner_id, "111122223333");
        assert_eq!(x.amazon_side_asn, 4_200_000_000);
        assert!(!x.default_route_table_association && !x.default_route_table_propagation);
        assert!(x.auto_accept_shared_attachments && x.multicast_support);
    }

    #[test]
    fn transit_gateway_options_are_checked() {
        assert_eq!(
            errors(
                "[[transit_gateway]]\nname = \"x\"\nowner_id = \"1\"\nregion = \"mars\"\namazon_side_asn = 65535\nmulticast_support = \"yes\"\n"
            ),
            [
                format!(
                    "{}transit_gateway[2].owner_id \"1\" is not an AWS account ID (12 digits, like \"123456789012\")",
                    at(3, 12)
                ),
                format!(
                    "{}transit_gateway[2].region \"mars\" is not an AWS region name (lowercase words and a number joined by dashes, like \"us-east-1\", \"eu-west-1\" or \"us-gov-west-1\", or vpcd's own \"local-1\", \"local-2\", ...)",
                    at(4, 10)
                ),
                format!(
                    "{}transit_gateway[2].amazon_side_asn 65535 is not an ASN AWS allows for a transit gateway: 64512 to 65534, or 4200000000 to 4294967294",
                    at(5, 19)
                ),
                format!(
                    "{}transit_gateway[2].multicast_support \"yes\" is not an option value (write \"enable\" or \"disable\")",
                    at(6, 21)
                ),
            ]
        );
        for asn in [64511_i64, 65534, 4_199_999_999, 4_294_967_295] {
            let src = format!("[[transit_gateway]]\nname = \"x\"\namazon_side_asn = {asn}\n");
            let valid = parse(&format!("{BASE}{src}"), "t.toml").is_ok();
            assert_eq!(valid, asn == 65534, "{asn}");
        }
    }

    #[test]
    fn a_vpc_attachment_has_an_interface_per_subnet() {
        let src = att("att-hub", "tgw", "hub", "\"hub-b\", \"hub-a\"", "")
            + "[[nat_gateway]]\nname = \"nat\"\nsubnet = \"hub-a\"\nconnectivity = \"private\"\n";
        let t = ok(&src);
        let a = &t.tgw_attachments[0];
        assert_eq!(a.name, "att-hub");
        assert_eq!(a.transit_gateway, TransitGatewayId(0));
        assert_eq!(a.status, AttachmentStatus::Available);
        assert_eq!(
            a.kind,
            TgwAttachmentKind::Vpc {
                vpc: VpcId(0),
                subnets: vec![SubnetId(1), SubnetId(0)],
                // After svc (10.10.1.4) and the NAT gateway (10.10.1.5).
                private_ips: vec![ip("10.10.2.4"), ip("10.10.1.6")],
                appliance_mode: false,
            }
        );
        assert_eq!(a.vpc(), Some(VpcId(0)));
        assert_eq!(
            t.tgw_attachment_of(VpcId(0), TransitGatewayId(0)),
            Some(TgwAttachmentId(0))
        );
        assert_eq!(t.tgw_attachment_of(VpcId(0), TransitGatewayId(1)), None);
        assert_eq!(t.nat_gateways[0].private_ips, [ip("10.10.1.5")]);
        let t = ok(&att(
            "att-hub",
            "tgw",
            "hub",
            "\"hub-a\"",
            "appliance_mode_support = \"enable\"\nstatus = \"pending-acceptance\"",
        ));
        let a = &t.tgw_attachments[0];
        assert!(matches!(
            a.kind,
            TgwAttachmentKind::Vpc {
                appliance_mode: true,
                ..
            }
        ));
        assert_eq!(a.status.aws_name(), "pending-acceptance");
    }

    #[test]
    fn a_vpc_attachments_subnets_are_of_its_vpc_one_per_zone() {
        assert_eq!(
            errors(&att(
                "x",
                "tgw",
                "hub",
                "\"hub-a\", \"hub-a2\", \"spoke-a\", \"hub-a\", \"nope\"",
                ""
            )),
            [
                format!(
                    "{}transit_gateway_vpc_attachment[0].subnets[1] subnet \"hub-a2\" is in availability zone \"a\" like subnet \"hub-a\"; a transit gateway attachment has one subnet per availability zone at most",
                    at(5, 21)
                ),
                format!(
                    "{}transit_gateway_vpc_attachment[0].subnets[2] subnet \"spoke-a\" is in vpc \"spoke\", the transit gateway attachment in vpc \"hub\"",
                    at(5, 31)
                ),
                format!(
                    "{}transit_gateway_vpc_attachment[0].subnets[3] \"hub-a\" is already subnets[0]",
                    at(5, 42)
                ),
                format!(
                    "{}transit_gateway_vpc_attachment[0].subnets[4] \"nope\" is not a declared subnet",
                    at(5, 51)
                ),
            ]
        );
        assert_eq!(
            errors(&att("x", "tgw", "hub", "", "")),
            [format!(
                "{}transit_gateway_vpc_attachment[0].subnets must name at least one subnet of the VPC (one per availability zone the attachment serves)",
                at(5, 11)
            )]
        );
    }

    #[test]
    fn a_gateway_attaches_a_vpc_of_its_region_once() {
        assert_eq!(
            errors(
                &(att("one", "tgw", "hub", "\"hub-a\"", "")
                    + &att("two", "tgw", "hub", "\"hub-b\"", "")
                    + &att("far", "tgw", "far", "\"far-a\"", ""))
            ),
            [
                format!(
                    "{}transit_gateway_vpc_attachment[1].vpc vpc \"hub\" is already attached to transit gateway \"tgw\" by transit_gateway_vpc_attachment \"one\"; a transit gateway has one attachment per VPC",
                    at(10, 7)
                ),
                format!(
                    "{}transit_gateway_vpc_attachment[2].vpc vpc \"far\" is in region \"eu-west-1\", transit gateway \"tgw\" in \"us-east-1\": a transit gateway attaches VPCs of its own region (peer transit gateways across regions)",
                    at(16, 7)
                ),
            ]
        );
        // A VPC may be attached to several gateways.
        let t = ok(&(att("one", "tgw", "hub", "\"hub-a\"", "")
            + "[[transit_gateway]]\nname = \"tgw2\"\n\n"
            + &att("two", "tgw2", "hub", "\"hub-a\"", "")));
        assert_eq!(
            t.tgw_attachment_of(VpcId(0), TransitGatewayId(2)),
            Some(TgwAttachmentId(1))
        );
        assert_eq!(
            problems(&att(
                "x",
                "nope",
                "gone",
                "\"hub-a\"",
                "status = \"rejected\"\nappliance_mode_support = \"on\""
            )),
            [
                Problem::UnknownTransitGateway("nope".into()),
                Problem::UnknownVpc("gone".into()),
                Problem::BadAttachmentStatus("rejected".into()),
                Problem::BadEnableDisable("on".into()),
            ]
        );
    }

    #[test]
    fn another_accounts_vpc_needs_a_share_and_an_acceptance() {
        let spoke = att("att-spoke", "tgw", "spoke", "\"spoke-a\"", "");
        assert_eq!(
            errors(&spoke),
            [format!(
                "{}transit_gateway_vpc_attachment[0].transit_gateway transit gateway \"tgw\" belongs to account 123456789012, vpc \"spoke\" to account 444455556666: share the transit gateway with that account in a [[resource_share]] (resources = [\"tgw\"], principals = [\"444455556666\"])",
                at(3, 19)
            )]
        );
        let share = "[[resource_share]]\nname = \"share\"\nresources = [\"tgw\"]\nprincipals = [\"444455556666\"]\n\n";
        let t = ok(&(spoke.clone() + share));
        assert_eq!(
            t.tgw_attachments[0].status,
            AttachmentStatus::PendingAcceptance
        );
        assert_eq!(
            t.resource_shares,
            [ResourceShare {
                name: "share".into(),
                resources: vec![TransitGatewayId(0)],
                principals: vec!["444455556666".into()],
            }]
        );
        assert!(t.shared_with(TransitGatewayId(0), "444455556666"));
        assert!(t.shared_with(TransitGatewayId(0), crate::DEFAULT_ACCOUNT));
        assert!(!t.shared_with(TransitGatewayId(1), "444455556666"));
        assert!(!t.shared_with(TransitGatewayId(0), "111122223333"));
        // Accepted in the file, or automatically by the gateway.
        let t = ok(&(att(
            "att-spoke",
            "tgw",
            "spoke",
            "\"spoke-a\"",
            "status = \"available\"",
        ) + share));
        assert_eq!(t.tgw_attachments[0].status, AttachmentStatus::Available);
        let auto = format!("{spoke}{share}")
            .replace("[[resource_share]]", "[[transit_gateway]]\nname = \"auto\"\nauto_accept_shared_attachments = \"enable\"\n\n[[resource_share]]")
            .replace("\"tgw\"", "\"auto\"");
        let t = ok(&auto);
        assert_eq!(t.tgw_attachments[0].status, AttachmentStatus::Available);
    }

    #[test]
    fn resource_shares_name_gateways_and_accounts_once() {
        assert_eq!(
            errors(
                "[[resource_share]]\nname = \"s\"\nresources = [\"tgw\", \"nope\", \"tgw\"]\nprincipals = [\"444455556666\", \"4444-5555-6666\", \"444455556666\"]\n"
            ),
            [
                format!(
                    "{}resource_share[0].resources[1] \"nope\" is not a declared transit_gateway",
                    at(3, 21)
                ),
                format!(
                    "{}resource_share[0].resources[2] \"tgw\" is already resources[0]",
                    at(3, 29)
                ),
                format!(
                    "{}resource_share[0].principals[1] \"4444-5555-6666\" is not an AWS account ID (12 digits, like \"123456789012\")",
                    at(4, 31)
                ),
                format!(
                    "{}resource_share[0].principals[2] \"444455556666\" is already principals[0]",
                    at(4, 49)
                ),
            ]
        );
    }

    #[test]
    fn a_peering_attachment_joins_two_gateways_once() {
        let other = "[[transit_gateway]]\nname = \"theirs\"\nowner_id = \"444455556666\"\n\n";
        let t = ok(&(other.to_owned()
            + &att("att-hub", "tgw", "hub", "\"hub-a\"", "")
            + &peering("east-west", "tgw", "tgw-west", "")
            + &peering("to-theirs", "tgw", "theirs", "")
            + &peering(
                "theirs-west",
                "theirs",
                "tgw-west",
                "status = \"available\"",
            )));
        let shown: Vec<(&str, &str)> = t
            .tgw_attachments
            .iter()
            .map(|a| (a.name.as_str(), a.status.aws_name()))
            .collect();
        assert_eq!(
            shown,
            [
                ("att-hub", "available"),
                ("east-west", "available"),
                ("to-theirs", "pending-acceptance"),
                ("theirs-west", "available"),
            ]
        );
        let ew = &t.tgw_attachments[1];
        assert_eq!(
            ew.kind,
            TgwAttachmentKind::Peering {
                peer: TransitGatewayId(1)
            }
        );
        assert_eq!(ew.vpc(), None);
        assert!(ew.is_on(TransitGatewayId(0)) && ew.is_on(TransitGatewayId(1)));
        assert!(!ew.is_on(TransitGatewayId(2)));
        assert_eq!(ew.peer_of(TransitGatewayId(1)), Some(TransitGatewayId(0)));
        assert_eq!(ew.peer_of(TransitGatewayId(2)), None);

        assert_eq!(
            errors(
                &(peering("a", "tgw", "tgw", "")
                    + &peering("b", "tgw", "tgw-west", "")
                    + &peering("c", "tgw-west", "tgw", ""))
            ),
            [
                format!(
                    "{}transit_gateway_peering_attachment[0].peer_transit_gateway \"tgw\" is the requester transit gateway too: a transit gateway cannot be peered with itself",
                    at(4, 24)
                ),
                format!(
                    "{}transit_gateway_peering_attachment[2].peer_transit_gateway transit gateway \"tgw-west\" and transit gateway \"tgw\" are already peered by transit_gateway_peering_attachment \"b\"; AWS allows one peering attachment between two transit gateways",
                    at(14, 24)
                ),
            ]
        );
        // VPC and peering attachments share their names.
        assert_eq!(
            errors(
                &(att("x", "tgw", "hub", "\"hub-a\"", "") + &peering("x", "tgw", "tgw-west", ""))
            ),
            [format!(
                "{}transit_gateway_peering_attachment[0].name \"x\" is already the name of transit_gateway_vpc_attachment 0",
                at(8, 8)
            )]
        );
    }

    /// Route table `rt` of `vpc` with `keys` and `routes`; `route` is on line 4 plus
    /// the lines of `keys`.
    fn table(vpc: &str, keys: &str, routes: &str) -> String {
        format!("[[route_table]]\nname = \"rt\"\nvpc = \"{vpc}\"\n{keys}route = [{routes}]\n\n")
    }

    #[test]
    fn a_route_goes_to_a_gateway_the_vpc_is_attached_to() {
        let attached = att(
            "att-hub",
            "tgw",
            "hub",
            "\"hub-a\"",
            "status = \"pending-acceptance\"",
        );
        let t = ok(&(table(
            "hub",
            "",
            "{ destination = \"10.0.0.0/8\", transit_gateway = \"tgw\" }, { destination = \"0.0.0.0/0\", transit_gateway = \"tgw\" }",
        ) + &attached));
        let rt = &t.route_tables[0];
        assert_eq!(
            rt.routes[1].target,
            RouteTarget::TransitGateway(TransitGatewayId(0))
        );
        assert_eq!(t.route_target_name(rt.routes[2].target), "tgw");
        assert!(!rt.routes[1].target.allowed_in_gateway_route_table());
        assert_eq!(
            errors(
                &(table(
                    "hub",
                    "",
                    "{ destination = \"10.0.0.0/8\", transit_gateway = \"tgw-west\" }, { destination = \"10.20.0.0/16\", transit_gateway = \"nope\" }",
                ) + &attached)
            ),
            [
                format!(
                    "{}route_table[0].route[0].transit_gateway vpc \"hub\" of the route table has no attachment to transit gateway \"tgw-west\" (declare a [[transit_gateway_vpc_attachment]])",
                    at(4, 58)
                ),
                format!(
                    "{}route_table[0].route[1].transit_gateway \"nope\" is not a declared transit_gateway",
                    at(4, 122)
                ),
            ]
        );
        assert_eq!(
            problems(
                &(table(
                    "hub",
                    "",
                    "{ destination = \"10.10.0.0/16\", transit_gateway = \"tgw\" }, { destination = \"10.10.1.0/24\", transit_gateway = \"tgw\" }",
                ) + &attached)
            ),
            [
                Problem::ConflictsWithLocal {
                    destination: "10.10.0.0/16".parse().unwrap()
                },
                Problem::MoreSpecificThanLocal {
                    destination: "10.10.1.0/24".parse().unwrap(),
                    local: "10.10.0.0/16".parse().unwrap()
                },
            ]
        );
        // An attachment whose VPC is unknown: only that is reported.
        assert_eq!(
            problems(
                &(table(
                    "hub",
                    "",
                    "{ destination = \"10.0.0.0/8\", transit_gateway = \"tgw\" }",
                ) + &att("x", "tgw", "gone", "\"hub-a\"", ""))
            ),
            [Problem::UnknownVpc("gone".into())]
        );
    }

    #[test]
    fn an_attachment_in_a_full_subnet() {
        let mut src = String::from(
            "[[subnet]]\nname = \"tiny\"\nvpc = \"hub\"\ncidr = \"10.10.9.0/28\"\naz = \"c\"\n\n",
        );
        for i in 0..11 {
            src += &format!("[[instance]]\nname = \"i{i}\"\nsubnet = \"tiny\"\n\n");
        }
        src += &att("x", "tgw", "hub", "\"tiny\"", "");
        assert_eq!(
            errors(&src),
            [format!(
                "{}transit_gateway_vpc_attachment[0].subnets[0] subnet \"tiny\" (10.10.9.0/28) has no free address left to allocate",
                at(6 + 44 + 5, 12)
            )]
        );
    }

    /// The names in a list of attachment ids.
    fn names(t: &Topology, ids: &[TgwAttachmentId]) -> Vec<String> {
        ids.iter()
            .map(|&a| t.tgw_attachment(a).name.clone())
            .collect()
    }

    #[test]
    fn a_deleted_attachment_is_kept_and_does_not_count() {
        // What DeleteTransitGateway*Attachment leaves: the attachment, deleted, with
        // no association or propagation; the VPC (or gateway) attached again.
        let src = att("old", "tgw", "hub", "\"hub-a\"", "status = \"deleted\"")
            + &att("new", "tgw", "hub", "\"hub-b\"", "")
            + &att("older", "tgw", "hub", "\"hub-a\"", "status = \"deleted\"")
            + &peering("p-old", "tgw", "tgw-west", "status = \"deleted\"")
            + &peering("p-new", "tgw-west", "tgw", "")
            + &peering("p-older", "tgw", "tgw-west", "status = \"deleted\"");
        let t = ok(&src);
        let statuses: Vec<AttachmentStatus> = t.tgw_attachments.iter().map(|a| a.status).collect();
        assert_eq!(
            statuses,
            [
                AttachmentStatus::Deleted,
                AttachmentStatus::Available,
                AttachmentStatus::Deleted,
                AttachmentStatus::Deleted,
                AttachmentStatus::Available,
                AttachmentStatus::Deleted
            ]
        );
        assert_eq!(
            t.tgw_attachment_of(VpcId(0), TransitGatewayId(0)),
            Some(TgwAttachmentId(1))
        );
        let d = &t.tgw_route_tables[0];
        assert_eq!(d.name, "tgw-default");
        assert_eq!(names(&t, &d.associations), ["new"]);
        assert_eq!(names(&t, &d.propagations), ["new"]);
        // The deleted one kept its interface address (the new one comes after it).
        let ips = |a: usize| match &t.tgw_attachments[a].kind {
            TgwAttachmentKind::Vpc { private_ips, .. } => private_ips.clone(),
            TgwAttachmentKind::Peering { .. } => Vec::new(),
        };
        assert_eq!(ips(0), [ip("10.10.1.5")]);
        // Two that are not deleted are still refused.
        assert!(matches!(
            &problems(&(src.clone() + &att("again", "tgw", "hub", "\"hub-a\"", "")))[..],
            [Problem::SecondTgwVpcAttachment { other, .. }] if other == "new"
        ));
        assert!(matches!(
            &problems(&(src.clone() + &peering("p-again", "tgw", "tgw-west", "")))[..],
            [Problem::SecondTgwPeering { other, .. }] if other == "p-new"
        ));
        // A deleted attachment is in no table's associations or propagations, and in
        // no multicast domain; a static route to it stays (blackhole).
        let rt = "[[transit_gateway_route_table]]\nname = \"rt\"\ntransit_gateway = \"tgw\"\nassociations = [\"old\"]\npropagations = [\"old\"]\nroute = [{ destination = \"10.99.0.0/16\", transit_gateway_attachment = \"old\" }]\n";
        let deleted = "transit gateway attachment \"old\" is deleted: a deleted attachment has no associations or propagations";
        let lines = src.lines().count();
        assert_eq!(
            errors(&(src.clone() + rt)),
            [
                format!(
                    "{}transit_gateway_route_table[0].associations[0] {deleted}",
                    at(lines + 4, 17)
                ),
                format!(
                    "{}transit_gateway_route_table[0].propagations[0] {deleted}",
                    at(lines + 5, 17)
                ),
            ]
        );
        let t = ok(&(src.clone()
            + &rt.replace("associations = [\"old\"]\npropagations = [\"old\"]\n", "")));
        let rt = t.find_tgw_route_table("rt").unwrap();
        assert_eq!(t.tgw_routes(rt)[0].state, TgwRouteState::Blackhole);
        let multicast = "[[transit_gateway]]\nname = \"mc\"\nmulticast_support = \"enable\"\n\n"
            .to_owned()
            + &att("gone", "mc", "hub", "\"hub-a\"", "status = \"deleted\"")
            + "[[transit_gateway_multicast_domain]]\nname = \"md\"\ntransit_gateway = \"mc\"\nassociations = [{ transit_gateway_attachment = \"gone\", subnets = [\"hub-a\"] }]\n";
        assert_eq!(
            problems(&multicast),
            [Problem::DeletedAttachment("gone".into())]
        );
        // A VPC's route to the gateway is blackhole once its attachment is deleted,
        // and while it is pending.
        let route = |state: &str| {
            table(
                "far",
                "",
                &format!(
                    "{{ destination = \"10.0.0.0/8\", transit_gateway = \"tgw-west\", state = \"{state}\" }}"
                ),
            )
        };
        ok(
            &(att("w", "tgw-west", "far", "\"far-a\"", "status = \"deleted\"")
                + &route("blackhole")),
        );
        assert_eq!(
            problems(
                &(att("w", "tgw-west", "far", "\"far-a\"", "status = \"deleted\"")
                    + &route("active"))
            ),
            [Problem::RouteStateMismatch {
                written: "active",
                why: "vpc \"far\"'s attachment to transit gateway \"tgw-west\" is deleted".into()
            }]
        );
        assert_eq!(
            problems(&(att("w", "tgw-west", "far", "\"far-a\"", "status = \"pending-acceptance\"") + &route("active"))),
            [Problem::RouteStateMismatch {
                written: "active",
                why: "attachment \"w\" of vpc \"far\" to transit gateway \"tgw-west\" is pending-acceptance".into()
            }]
        );
        ok(&(att("w", "tgw-west", "far", "\"far-a\"", "") + &route("active")));
    }

    #[test]
    fn an_attachment_declines_its_gateways_defaults() {
        let both = att(
            "a1",
            "tgw",
            "hub",
            "\"hub-a\"",
            "default_route_table_association = \"disable\"\ndefault_route_table_propagation = \"disable\"",
        ) + &att("a2", "tgw", "far", "\"far-a\"", "")
            .replace("tgw", "tgw-west")
            .replace(
                "transit_gateway = \"tgw-west\"",
                "transit_gateway = \"tgw-west\"\ndefault_route_table_association = \"disable\"",
            );
        let t = ok(&both);
        let table = |name: &str| {
            let d = t.tgw_route_table(t.find_tgw_route_table(name).unwrap());
            (names(&t, &d.associations), names(&t, &d.propagations))
        };
        assert_eq!(table("tgw-default"), (vec![], vec![]));
        assert_eq!(table("tgw-west-default"), (vec![], vec!["a2".to_string()]));
        // "enable" follows the gateway; it cannot enable what the gateway disabled.
        let t = ok(&att(
            "a1",
            "tgw",
            "hub",
            "\"hub-a\"",
            "default_route_table_association = \"enable\"",
        ));
        assert_eq!(names(&t, &t.tgw_route_tables[0].associations), ["a1"]);
        let bare = "[[transit_gateway]]\nname = \"bare\"\ndefault_route_table_propagation = \"disable\"\n\n";
        assert_eq!(
            errors(
                &(bare.to_owned()
                    + &att(
                        "a1",
                        "bare",
                        "hub",
                        "\"hub-a\"",
                        "default_route_table_association = \"disable\"\ndefault_route_table_propagation = \"enable\""
                    ))
            ),
            [format!(
                "{}transit_gateway_vpc_attachment[0].default_route_table_propagation is \"enable\", but transit gateway \"bare\" has default_route_table_propagation disabled: an attachment can only decline its gateway's default (\"disable\")",
                at(11, 35)
            )]
        );
        assert_eq!(
            problems(&att(
                "a1",
                "tgw",
                "hub",
                "\"hub-a\"",
                "default_route_table_association = \"no\""
            )),
            [Problem::BadEnableDisable("no".into())]
        );
    }
}
