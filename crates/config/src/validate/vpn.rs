//! Virtual private gateways, customer gateways and route tables' `propagating_vgws`
//! (see `crate::vpn`), with AWS's rules:
//!
//! - Names are valid and unique per kind; `type` is `ipsec.1` (the only type).
//! - A VPN gateway's `amazon_side_asn` (default 64512) is private (64512-65534,
//!   4200000000-4294967294) or public and not reserved; it is attached to at most one
//!   VPC (`vpc`, omitted: detached), and a VPC has at most one attached VPN gateway.
//! - A customer gateway's `ip_address` is a public address of the emulated internet,
//!   unique among all public addresses (checked with them in `gateways.rs`); its
//!   `bgp_asn` (default 65000) is 1-4294967294 except the ASNs AWS reserves.
//! - `propagating_vgws` of a route table names VPN gateways attached to the table's
//!   VPC, each once (AWS's `EnableVgwRoutePropagation` refuses another gateway).
//! - Route target `vpn_gateway` is checked with the routes: the gateway must be
//!   attached to the table's VPC, or the route written `blackhole` (what a
//!   `DetachVpnGateway` leaves behind).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::{Checker, lookup, names};
use crate::error::Problem;
use crate::topology::*;
use crate::vpn::*;

/// What the VPN checks record for the routes and `build`.
#[derive(Default)]
pub(super) struct Vpn<'a> {
    /// VPN gateway name -> index.
    pub vgw_names: HashMap<&'a str, usize>,
    /// Per VPN gateway: its VPC (`Some(None)`: detached; `None`: a broken `vpc`).
    pub vgw_vpcs: Vec<Option<Option<VpcId>>>,
    /// Per VPN gateway: the checked gateway.
    pub vgws: Vec<Option<VpnGateway>>,
    /// Per customer gateway: the checked gateway.
    pub cgws: Vec<Option<CustomerGateway>>,
    /// Per customer gateway: its address (`None`: broken), for the uniqueness check.
    pub cgw_ips: Vec<Option<Ipv4Addr>>,
    /// Per declared route table: its valid `propagating_vgws`.
    pub table_vgws: Vec<Vec<VpnGatewayId>>,
}

/// The checked `type` (omitted: `ipsec.1`).
fn vpn_type(c: &mut Checker<'_, '_, '_>, kind: Option<&toml::Spanned<String>>, field: String) {
    if let Some(k) = kind.filter(|k| k.get_ref() != VPN_TYPE) {
        c.r.report(k.span(), field, Problem::BadVpnType(k.get_ref().clone()));
    }
}

impl<'a> Checker<'_, 'a, '_> {
    /// VPN gateways and customer gateways (before the public addresses are checked
    /// for uniqueness).
    pub(super) fn vpn_gateways(&mut self) {
        let raw = self.raw;
        self.vpn.vgw_names = names(
            self.r,
            "vpn_gateway",
            raw.vpn_gateway.iter().map(|g| &g.name),
        );
        let mut attached: HashMap<VpcId, usize> = HashMap::new();
        for (i, g) in raw.vpn_gateway.iter().enumerate() {
            vpn_type(self, g.kind.as_ref(), format!("vpn_gateway[{i}].type"));
            let mut ok = true;
            let asn = match &g.amazon_side_asn {
                None => DEFAULT_AMAZON_SIDE_ASN,
                Some(a) => match u32::try_from(*a.get_ref()).ok().filter(|&n| amazon_side_asn_ok(n)) {
                    Some(n) => n,
                    None => {
                        let field = format!("vpn_gateway[{i}].amazon_side_asn");
                        self.r
                            .report(a.span(), field, Problem::BadAmazonSideAsn(*a.get_ref()));
                        ok = false;
                        0
                    }
                },
            };
            let vpc = match &g.vpc {
                None => Some(None),
                Some(v) => {
                    let field = format!("vpn_gateway[{i}].vpc");
                    let vpc: Option<VpcId> =
                        lookup(self.r, &self.vpc_names, v, field.clone(), Problem::UnknownVpc);
                    match vpc {
                        Some(vpc) => match attached.get(&vpc) {
                            Some(&other) => {
                                let problem = Problem::SecondVpnGateway {
                                    vpc: v.get_ref().clone(),
                                    other: raw.vpn_gateway[other].name.get_ref().clone(),
                                };
                                self.r.report(v.span(), field, problem);
                                None
                            }
                            None => {
                                attached.insert(vpc, i);
                                Some(Some(vpc))
                            }
                        },
                        None => None,
                    }
                }
            };
            self.vpn.vgw_vpcs.push(vpc);
            self.vpn.vgws.push(vpc.filter(|_| ok).map(|vpc| VpnGateway {
                name: g.name.get_ref().clone(),
                amazon_side_asn: asn,
                vpc,
                availability_zone: g.availability_zone.as_ref().map(|z| z.get_ref().clone()),
            }));
        }
        names(
            self.r,
            "customer_gateway",
            raw.customer_gateway.iter().map(|g| &g.name),
        );
        for (i, g) in raw.customer_gateway.iter().enumerate() {
            vpn_type(self, g.kind.as_ref(), format!("customer_gateway[{i}].type"));
            let field = format!("customer_gateway[{i}].ip_address");
            let ip = super::gateways::public_address(self.r, &g.ip_address, field);
            self.vpn.cgw_ips.push(ip);
            let asn = match &g.bgp_asn {
                None => Some(DEFAULT_BGP_ASN),
                Some(a) => {
                    let asn = u32::try_from(*a.get_ref()).ok().filter(|&n| bgp_asn_ok(n));
                    if asn.is_none() {
                        let field = format!("customer_gateway[{i}].bgp_asn");
                        self.r.report(a.span(), field, Problem::BadBgpAsn(*a.get_ref()));
                    }
                    asn
                }
            };
            self.vpn.cgws.push(ip.zip(asn).map(|(ip_address, bgp_asn)| CustomerGateway {
                name: g.name.get_ref().clone(),
                ip_address,
                bgp_asn,
                device_name: g.device_name.as_ref().map(|d| d.get_ref().clone()),
            }));
        }
    }

    /// Every declared table's `propagating_vgws`: attached to the table's VPC, once.
    pub(super) fn propagations(&mut self) {
        let raw = self.raw;
        for (i, t) in raw.route_table.iter().enumerate() {
            let mut ids: Vec<VpnGatewayId> = Vec::new();
            let mut seen: HashMap<VpnGatewayId, usize> = HashMap::new();
            for (j, g) in t.propagating_vgws.iter().enumerate() {
                let field = format!("route_table[{i}].propagating_vgws[{j}]");
                let id: Option<VpnGatewayId> = lookup(
                    self.r,
                    &self.vpn.vgw_names,
                    g,
                    field.clone(),
                    Problem::UnknownVpnGateway,
                );
                let (Some(id), Some(table_vpc)) = (id, self.table_vpcs[i]) else {
                    continue;
                };
                let Some(attached) = self.vpn.vgw_vpcs[id.index()] else {
                    continue;
                };
                let vpc_name = |v: VpcId| raw.vpc[v.index()].name.get_ref().clone();
                if attached != Some(table_vpc) {
                    let problem = Problem::VpnGatewayNotAttached {
                        vgw: g.get_ref().clone(),
                        vpc: vpc_name(table_vpc),
                        attached: attached.map(vpc_name),
                    };
                    self.r.report(g.span(), field, problem);
                    continue;
                }
                if let Some(&index) = seen.get(&id) {
                    let problem = Problem::DuplicatePropagation {
                        vgw: g.get_ref().clone(),
                        index,
                    };
                    self.r.report(g.span(), field, problem);
                    continue;
                }
                seen.insert(id, j);
                ids.push(id);
            }
            self.vpn.table_vgws.push(ids);
        }
    }

    /// The checked VPN and customer gateways.
    pub(super) fn build_vpn(&self) -> Option<(Vec<VpnGateway>, Vec<CustomerGateway>)> {
        let vgws = self.vpn.vgws.iter().cloned().collect::<Option<Vec<_>>>()?;
        let cgws = self.vpn.cgws.iter().cloned().collect::<Option<Vec<_>>>()?;
        Some((vgws, cgws))
    }
}
