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
                Some(a) => match u32::try_from(*a.get_ref())
                    .ok()
                    .filter(|&n| amazon_side_asn_ok(n))
                {
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
                    let vpc: Option<VpcId> = lookup(
                        self.r,
                        &self.vpc_names,
                        v,
                        field.clone(),
                        Problem::UnknownVpc,
                    );
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
                        self.r
                            .report(a.span(), field, Problem::BadBgpAsn(*a.get_ref()));
                    }
                    asn
                }
            };
            self.vpn
                .cgws
                .push(ip.zip(asn).map(|(ip_address, bgp_asn)| CustomerGateway {
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

#[cfg(test)]
mod tests {
    use crate::VpnGatewayId;
    use crate::topology::*;

    /// VPCs `corp` and `lab`, a table of each, a VPN gateway `vgw` attached to `corp`
    /// and a detached one `spare`, an internet host at 203.0.113.10.
    const BASE: &str = r#"[[vpc]]
name = "corp"
cidr = "10.20.0.0/16"

[[vpc]]
name = "lab"
cidr = "10.30.0.0/16"

[[vpn_gateway]]
name = "vgw"
vpc = "corp"

[[vpn_gateway]]
name = "spare"

[[internet_host]]
name = "web"
address = "203.0.113.10"
"#;
    const BASE_LINES: usize = 18;
    snippet_helpers!();

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
    }

    #[test]
    fn gateways_have_defaults_and_awss_asns() {
        let t = ok("");
        let g = &t.vpn_gateways[0];
        assert_eq!(
            (g.amazon_side_asn, g.vpc, g.region(&t)),
            (64512, Some(VpcId(0)), "us-east-1")
        );
        assert_eq!(t.vpn_gateways[1].vpc, None);
        assert_eq!(
            errors(
                "[[vpn_gateway]]\nname = \"x\"\ntype = \"ipsec.2\"\namazon_side_asn = 65535\nvpc = \"corp\"\n"
            ),
            [
                format!(
                    "{}vpn_gateway[2].type type \"ipsec.2\" is not supported; the only type is \"ipsec.1\"",
                    at(3, 8)
                ),
                format!(
                    "{}vpn_gateway[2].amazon_side_asn 65535 is not a valid Amazon side ASN: use a private ASN (64512-65534 or 4200000000-4294967294) or a public one that is not reserved",
                    at(4, 19)
                ),
                format!(
                    "{}vpn_gateway[2].vpc vpc \"corp\" already has VPN gateway \"vgw\" attached; AWS allows one",
                    at(5, 7)
                ),
            ]
        );
    }

    #[test]
    fn customer_gateways_have_a_public_unused_address_and_a_valid_asn() {
        let t = ok(
            "[[customer_gateway]]\nname = \"hq\"\nip_address = \"203.0.113.60\"\ndevice_name = \"fw\"\n",
        );
        let c = &t.customer_gateways[0];
        assert_eq!(
            (
                c.ip_address.to_string(),
                c.bgp_asn,
                c.device_name.as_deref()
            ),
            ("203.0.113.60".to_owned(), 65000, Some("fw"))
        );
        assert_eq!(
            errors(
                "[[customer_gateway]]\nname = \"a\"\nip_address = \"203.0.113.10\"\nbgp_asn = 7224\n\n[[customer_gateway]]\nname = \"b\"\nip_address = \"10.0.0.1\"\nbgp_asn = 0\n"
            ),
            [
                format!(
                    "{}customer_gateway[0].ip_address 203.0.113.10 is already used by internet_host \"web\"",
                    at(3, 14)
                ),
                format!(
                    "{}customer_gateway[0].bgp_asn 7224 is not a valid BGP ASN: use 1-4294967294, except 7224, 9059, 10124 and 17943, which AWS reserves",
                    at(4, 11)
                ),
                format!(
                    "{}customer_gateway[1].ip_address 10.0.0.1 cannot be a public address: vpcd's public addresses are 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737), without each range's first and last address and without 192.0.2.1 (the internet's router)",
                    at(8, 14)
                ),
                format!(
                    "{}customer_gateway[1].bgp_asn 0 is not a valid BGP ASN: use 1-4294967294, except 7224, 9059, 10124 and 17943, which AWS reserves",
                    at(9, 11)
                ),
            ]
        );
    }

    #[test]
    fn routes_and_propagation_need_the_gateway_attached_to_the_tables_vpc() {
        let t = ok(
            "[[route_table]]\nname = \"rt\"\nvpc = \"corp\"\npropagating_vgws = [\"vgw\"]\nroute = [{ destination = \"172.16.0.0/12\", vpn_gateway = \"vgw\" }, { destination = \"192.168.0.0/16\", vpn_gateway = \"spare\", state = \"blackhole\" }]\n",
        );
        let rt = &t.route_tables[0];
        assert_eq!(rt.propagating_vgws, [VpnGatewayId(0)]);
        assert_eq!(
            rt.routes[1].target,
            RouteTarget::VpnGateway(VpnGatewayId(0))
        );
        assert_eq!(
            rt.routes[2].target,
            RouteTarget::VpnGateway(VpnGatewayId(1))
        );
        assert_eq!(
            errors(
                "[[route_table]]\nname = \"rt\"\nvpc = \"lab\"\npropagating_vgws = [\"vgw\", \"nope\"]\nroute = [{ destination = \"172.16.0.0/12\", vpn_gateway = \"spare\" }, { destination = \"172.17.0.0/16\", vpn_gateway = \"vgw\", state = \"active\" }]\n\n[[route_table]]\nname = \"rt2\"\nvpc = \"corp\"\npropagating_vgws = [\"vgw\", \"vgw\"]\n"
            ),
            [
                format!(
                    "{}route_table[0].propagating_vgws[0] VPN gateway \"vgw\" is not attached to vpc \"lab\" (it is attached to vpc \"corp\")",
                    at(4, 21)
                ),
                format!(
                    "{}route_table[0].propagating_vgws[1] \"nope\" is not a declared vpn_gateway",
                    at(4, 28)
                ),
                format!(
                    "{}route_table[0].route[0].vpn_gateway VPN gateway \"spare\" is not attached to vpc \"lab\" (it is detached)",
                    at(5, 57)
                ),
                format!(
                    "{}route_table[0].route[1].vpn_gateway VPN gateway \"vgw\" is not attached to vpc \"lab\" (it is attached to vpc \"corp\")",
                    at(5, 115)
                ),
                format!(
                    "{}route_table[1].propagating_vgws[1] VPN gateway \"vgw\" is already propagating_vgws[0]",
                    at(10, 28)
                ),
            ]
        );
    }
}
