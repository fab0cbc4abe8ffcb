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

use ipnet::Ipv4Net;

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
    /// Customer gateway name -> index.
    pub cgw_names: HashMap<&'a str, usize>,
    /// Per VPN connection: the checked connection (outside addresses `0.0.0.0` where
    /// vpcd assigns them).
    pub conns: Vec<Option<VpnConnection>>,
    /// Per VPN connection and tunnel: its written outside address, for the uniqueness
    /// check of public addresses.
    pub outside_ips: Vec<[Option<Ipv4Addr>; 2]>,
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
        self.vpn.cgw_names = names(
            self.r,
            "customer_gateway",
            raw.customer_gateway.iter().map(|g| &g.name),
        );
        for (i, g) in raw.customer_gateway.iter().enumerate() {
            let taken = raw
                .instance
                .iter()
                .any(|x| x.name.get_ref() == g.name.get_ref())
                || raw
                    .internet_host
                    .iter()
                    .any(|x| x.name.get_ref() == g.name.get_ref());
            if taken {
                let field = format!("customer_gateway[{i}].name");
                let problem = VpnProblem::SiteNameTaken(g.name.get_ref().clone());
                self.r.report(g.name.span(), field, problem.into());
            }
            let mut site_cidrs = Vec::new();
            for (j, c) in g.site_cidrs.iter().enumerate() {
                match c.get_ref().parse::<Ipv4Net>() {
                    Ok(n) if n == n.trunc() => site_cidrs.push(n),
                    _ => {
                        let field = format!("customer_gateway[{i}].site_cidrs[{j}]");
                        let problem = VpnProblem::BadRoute(c.get_ref().clone());
                        self.r.report(c.span(), field, problem.into());
                    }
                }
            }
            let mut site_addresses = Vec::new();
            for (j, a) in g.site_addresses.iter().enumerate() {
                let field = format!("customer_gateway[{i}].site_addresses[{j}]");
                match a.get_ref().parse::<Ipv4Addr>() {
                    Ok(ip) if site_cidrs.iter().any(|n| n.contains(&ip)) => {
                        site_addresses.push(ip);
                    }
                    Ok(ip) => {
                        let problem = VpnProblem::SiteAddressOutside(ip);
                        self.r.report(a.span(), field, problem.into());
                    }
                    Err(_) => {
                        let problem = Problem::BadAddress(a.get_ref().clone());
                        self.r.report(a.span(), field, problem);
                    }
                }
            }
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
                    site_cidrs: site_cidrs.clone(),
                    site_addresses: site_addresses.clone(),
                }));
        }
        self.vpn_connections();
    }

    /// `[[vpn_connection]]`: gateways, tunnel options, static routes.
    fn vpn_connections(&mut self) {
        let raw = self.raw;
        names(
            self.r,
            "vpn_connection",
            raw.vpn_connection.iter().map(|c| &c.name),
        );
        let mut pairs: HashMap<(usize, usize), usize> = HashMap::new();
        let mut inside: HashMap<(usize, Ipv4Net), String> = HashMap::new();
        let mut site_tunnels: HashMap<usize, usize> = HashMap::new();
        for (i, c) in raw.vpn_connection.iter().enumerate() {
            let at = |f: &str| format!("vpn_connection[{i}].{f}");
            vpn_type(self, c.kind.as_ref(), at("type"));
            let cgw: Option<CustomerGatewayId> = lookup(
                self.r,
                &self.vpn.cgw_names,
                &c.customer_gateway,
                at("customer_gateway"),
                Problem::UnknownCustomerGateway,
            );
            let vgw: Option<VpnGatewayId> = lookup(
                self.r,
                &self.vpn.vgw_names,
                &c.vpn_gateway,
                at("vpn_gateway"),
                Problem::UnknownVpnGateway,
            );
            let mut ok = cgw.is_some() && vgw.is_some();
            if let (Some(g), Some(v)) = (cgw, vgw) {
                if let Some(&other) = pairs.get(&(g.index(), v.index())) {
                    let problem = VpnProblem::SecondConnection {
                        other: raw.vpn_connection[other].name.get_ref().clone(),
                        cgw: c.customer_gateway.get_ref().clone(),
                        vgw: c.vpn_gateway.get_ref().clone(),
                    };
                    self.r
                        .report(c.vpn_gateway.span(), at("vpn_gateway"), problem.into());
                    ok = false;
                } else {
                    pairs.insert((g.index(), v.index()), i);
                }
                let n = site_tunnels.entry(g.index()).or_default();
                *n += 2;
                if *n > MAX_SITE_TUNNELS {
                    let problem =
                        VpnProblem::TooManySiteTunnels(c.customer_gateway.get_ref().clone());
                    self.r.report(
                        c.customer_gateway.span(),
                        at("customer_gateway"),
                        problem.into(),
                    );
                    ok = false;
                }
            }
            let static_only = c.static_routes_only.as_ref().is_some_and(|s| *s.get_ref());
            let mut routes = Vec::new();
            for (j, r) in c.routes.iter().enumerate() {
                let field = at(&format!("routes[{j}]"));
                if !static_only {
                    self.r
                        .report(r.span(), field, VpnProblem::RoutesNeedStatic.into());
                    ok = false;
                    continue;
                }
                match r.get_ref().parse::<Ipv4Net>() {
                    Ok(n) if n == n.trunc() && !routes.contains(&n) => routes.push(n),
                    Ok(n) if n == n.trunc() => {
                        self.r
                            .report(r.span(), field, VpnProblem::DuplicateRoute(n).into());
                        ok = false;
                    }
                    _ => {
                        let problem = VpnProblem::BadRoute(r.get_ref().clone());
                        self.r.report(r.span(), field, problem.into());
                        ok = false;
                    }
                }
            }
            if c.tunnel_options.len() > 2 {
                let problem = VpnProblem::TooManyTunnels(c.tunnel_options.len());
                self.r
                    .report(c.name.span(), at("tunnel_options"), problem.into());
                ok = false;
            }
            let mut tunnels = Vec::new();
            let mut outside = [None, None];
            let none = crate::raw::RawTunnelOptions::default();
            #[allow(clippy::needless_range_loop)] // k names the tunnel in messages too
            for k in 0..2 {
                let o = c.tunnel_options.get(k).unwrap_or(&none);
                let f = |x: &str| at(&format!("tunnel_options[{k}].{x}"));
                let cidr = match &o.tunnel_inside_cidr {
                    Some(s) => match s.get_ref().parse::<Ipv4Net>() {
                        Ok(n) if inside_cidr_ok(n) => Some(n),
                        _ => {
                            let problem = VpnProblem::BadInsideCidr(s.get_ref().clone());
                            self.r
                                .report(s.span(), f("tunnel_inside_cidr"), problem.into());
                            None
                        }
                    },
                    None => None,
                };
                if let (Some(n), Some(v), Some(s)) = (cidr, vgw, &o.tunnel_inside_cidr) {
                    let me = format!("vpn_connection {:?} tunnel {}", c.name.get_ref(), k + 1);
                    if let Some(other) = inside.insert((v.index(), n), me) {
                        let problem = VpnProblem::InsideCidrInUse {
                            cidr: n,
                            other,
                            vgw: c.vpn_gateway.get_ref().clone(),
                        };
                        self.r
                            .report(s.span(), f("tunnel_inside_cidr"), problem.into());
                        ok = false;
                    }
                }
                let psk = match &o.pre_shared_key {
                    Some(s) if pre_shared_key_ok(s.get_ref()) => s.get_ref().clone(),
                    Some(s) => {
                        self.r.report(
                            s.span(),
                            f("pre_shared_key"),
                            VpnProblem::BadPreSharedKey.into(),
                        );
                        ok = false;
                        String::new()
                    }
                    None => default_pre_shared_key(c.name.get_ref(), k),
                };
                if let Some(s) = &o.outside_ip_address {
                    outside[k] =
                        super::gateways::public_address(self.r, s, f("outside_ip_address"));
                    ok &= outside[k].is_some();
                }
                let mut ike_versions = Vec::new();
                for v in o.ike_versions.iter().flatten() {
                    if matches!(v.get_ref().as_str(), "ikev1" | "ikev2") {
                        if !ike_versions.contains(v.get_ref()) {
                            ike_versions.push(v.get_ref().clone());
                        }
                    } else {
                        let problem = VpnProblem::BadIkeVersion(v.get_ref().clone());
                        self.r.report(v.span(), f("ike_versions"), problem.into());
                        ok = false;
                    }
                }
                if ike_versions.is_empty() {
                    ike_versions = vec!["ikev1".into(), "ikev2".into()];
                }
                let dpd = match &o.dpd_timeout_seconds {
                    None => tunnel_defaults::DPD_TIMEOUT,
                    Some(d) => match u32::try_from(*d.get_ref()) {
                        Ok(n) if n >= tunnel_defaults::DPD_TIMEOUT => n,
                        _ => {
                            let problem = VpnProblem::BadDpdTimeout(*d.get_ref());
                            self.r
                                .report(d.span(), f("dpd_timeout_seconds"), problem.into());
                            ok = false;
                            0
                        }
                    },
                };
                let mut lifetime =
                    |v: &Option<toml::Spanned<i64>>, phase: u8, max: u32, field: String| match v {
                        None => max,
                        Some(d) => match u32::try_from(*d.get_ref()) {
                            Ok(n) if (tunnel_defaults::MIN_LIFETIME..=max).contains(&n) => n,
                            _ => {
                                let problem = VpnProblem::BadLifetime {
                                    phase,
                                    value: *d.get_ref(),
                                    min: tunnel_defaults::MIN_LIFETIME,
                                    max,
                                };
                                self.r.report(d.span(), field, problem.into());
                                ok = false;
                                0
                            }
                        },
                    };
                let p1 = lifetime(
                    &o.phase1_lifetime_seconds,
                    1,
                    tunnel_defaults::PHASE1_LIFETIME,
                    f("phase1_lifetime_seconds"),
                );
                let p2 = lifetime(
                    &o.phase2_lifetime_seconds,
                    2,
                    tunnel_defaults::PHASE2_LIFETIME,
                    f("phase2_lifetime_seconds"),
                );
                if p1 != 0 && p2 != 0 && p2 >= p1 {
                    let span = o
                        .phase2_lifetime_seconds
                        .as_ref()
                        .map_or(c.name.span(), |d| d.span());
                    let problem = VpnProblem::Phase2NotShorter {
                        phase1: p1,
                        phase2: p2,
                    };
                    self.r
                        .report(span, f("phase2_lifetime_seconds"), problem.into());
                    ok = false;
                }
                tunnels.push(VpnTunnel {
                    outside_ip_address: outside[k].unwrap_or(Ipv4Addr::UNSPECIFIED),
                    tunnel_inside_cidr: cidr.unwrap_or_default(),
                    pre_shared_key: psk,
                    ike_versions,
                    dpd_timeout_seconds: dpd,
                    phase1_lifetime_seconds: p1,
                    phase2_lifetime_seconds: p2,
                });
            }
            self.vpn.outside_ips.push(outside);
            let conn = match (cgw, vgw, <[VpnTunnel; 2]>::try_from(tunnels)) {
                (Some(customer_gateway), Some(vpn_gateway), Ok(tunnels)) if ok => {
                    Some(VpnConnection {
                        name: c.name.get_ref().clone(),
                        customer_gateway,
                        vpn_gateway,
                        static_routes_only: static_only,
                        routes,
                        tunnels,
                        live: VpnLive::default(),
                    })
                }
                _ => None,
            };
            self.vpn.conns.push(conn);
        }
        // Inside CIDRs vpcd chooses: after every written one, per gateway in file order.
        for conn in self.vpn.conns.iter_mut().flatten() {
            for (k, o) in raw
                .vpn_connection
                .iter()
                .find(|c| c.name.get_ref() == &conn.name)
                .map(|c| &c.tunnel_options)
                .into_iter()
                .flat_map(|o| [o.first(), o.get(1)])
                .enumerate()
            {
                if o.and_then(|o| o.tunnel_inside_cidr.as_ref()).is_some() {
                    continue;
                }
                let v = conn.vpn_gateway.index();
                let taken: Vec<Ipv4Net> = inside
                    .keys()
                    .filter(|(g, _)| *g == v)
                    .map(|(_, n)| *n)
                    .collect();
                if let Some(n) = default_inside_cidr(&taken) {
                    conn.tunnels[k].tunnel_inside_cidr = n;
                    inside.insert((v, n), conn.name.clone());
                }
            }
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

    /// The checked VPN and customer gateways and VPN connections.
    pub(super) fn build_vpn(
        &self,
    ) -> Option<(Vec<VpnGateway>, Vec<CustomerGateway>, Vec<VpnConnection>)> {
        let vgws = self.vpn.vgws.iter().cloned().collect::<Option<Vec<_>>>()?;
        let cgws = self.vpn.cgws.iter().cloned().collect::<Option<Vec<_>>>()?;
        let conns = self.vpn.conns.iter().cloned().collect::<Option<Vec<_>>>()?;
        Some((vgws, cgws, conns))
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

#[cfg(test)]
mod connection_tests {
    #![allow(clippy::unwrap_used)] // test code

    use crate::topology::*;
    use crate::vpn::*;

    /// VPC corp with vgw attached; customer gateways hq and dc; an internet host.
    const BASE: &str = r#"[[vpc]]
name = "corp"
cidr = "10.20.0.0/16"

[[vpn_gateway]]
name = "vgw"
vpc = "corp"

[[customer_gateway]]
name = "hq"
ip_address = "203.0.113.60"
site_cidrs = ["172.16.0.0/16"]
site_addresses = ["172.16.1.1"]

[[customer_gateway]]
name = "dc"
ip_address = "203.0.113.61"

[[internet_host]]
name = "web"
address = "192.0.2.254"
"#;
    const BASE_LINES: usize = 21;
    snippet_helpers!();

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
    }

    #[test]
    fn connections_get_awss_defaults_and_free_addresses() {
        let t = ok(
            "\n[[vpn_connection]]\nname = \"v\"\ncustomer_gateway = \"hq\"\nvpn_gateway = \"vgw\"\ntunnel_options = [{ tunnel_inside_cidr = \"169.254.10.0/30\", pre_shared_key = \"my.key_123\" }]\n",
        );
        let c = &t.vpn_connections[0];
        assert_eq!(
            (c.customer_gateway, c.vpn_gateway, c.static_routes_only),
            (CustomerGatewayId(0), VpnGatewayId(0), false)
        );
        let [t1, t2] = &c.tunnels;
        // 192.0.2.254 is the host's: the next free addresses, downwards.
        assert_eq!(t1.outside_ip_address.to_string(), "192.0.2.253");
        assert_eq!(t2.outside_ip_address.to_string(), "192.0.2.252");
        assert_eq!(t1.tunnel_inside_cidr.to_string(), "169.254.10.0/30");
        // The next /30 not taken on the gateway.
        assert_eq!(t2.tunnel_inside_cidr.to_string(), "169.254.10.4/30");
        assert_eq!(t1.pre_shared_key, "my.key_123");
        assert_eq!(t2.pre_shared_key, default_pre_shared_key("v", 1));
        assert!(pre_shared_key_ok(&t2.pre_shared_key));
        assert_eq!(
            (
                t1.dpd_timeout_seconds,
                t1.phase1_lifetime_seconds,
                t1.phase2_lifetime_seconds
            ),
            (30, 28800, 3600)
        );
        assert_eq!(t1.ike_versions, ["ikev1", "ikev2"]);
        // Sites and tunnel ends are internet hosts after the declared one.
        let hosts: Vec<(&str, String, HostRole)> = t
            .internet_hosts
            .iter()
            .map(|h| (h.name.as_str(), h.address.to_string(), h.role))
            .collect();
        assert_eq!(
            hosts,
            [
                ("web", "192.0.2.254".into(), HostRole::Declared),
                (
                    "hq",
                    "203.0.113.60".into(),
                    HostRole::Site(CustomerGatewayId(0))
                ),
                (
                    "dc",
                    "203.0.113.61".into(),
                    HostRole::Site(CustomerGatewayId(1))
                ),
                (
                    "vpcd+tun-v-1",
                    "192.0.2.253".into(),
                    HostRole::Tunnel(VpnConnectionId(0), 0)
                ),
                (
                    "vpcd+tun-v-2",
                    "192.0.2.252".into(),
                    HostRole::Tunnel(VpnConnectionId(0), 1)
                ),
                (
                    "vpcd+gw-vgw",
                    "169.254.0.1".into(),
                    HostRole::VpnGateway(VpnGatewayId(0))
                ),
            ]
        );
        // Written and read back: the same, addresses and keys included.
        let text = crate::to_toml(&t);
        assert!(
            text.contains("{ outside_ip_address = \"192.0.2.253\", tunnel_inside_cidr = \"169.254.10.0/30\", pre_shared_key = \"my.key_123\" }"),
            "{text}"
        );
        assert!(!text.contains("vpcd+"), "{text}");
        assert_eq!(crate::parse(&text, "back.toml").unwrap(), t);
    }

    #[test]
    fn propagated_routes_follow_the_tunnels_and_awss_order() {
        let mut t = ok(
            "\n[[vpn_connection]]\nname = \"s\"\ncustomer_gateway = \"dc\"\nvpn_gateway = \"vgw\"\nstatic_routes_only = true\nroutes = [\"172.20.0.0/16\", \"172.16.0.0/16\"]\n\n[[vpn_connection]]\nname = \"b\"\ncustomer_gateway = \"hq\"\nvpn_gateway = \"vgw\"\n\n[[route_table]]\nname = \"rt\"\nvpc = \"corp\"\npropagating_vgws = [\"vgw\"]\n",
        );
        let rt = t.find_route_table("rt").unwrap();
        assert_eq!(t.propagated_routes(rt).count(), 0, "no tunnel up");
        t.vpn_connections[1].live.learned = vec!["172.16.0.0/16".parse().unwrap()];
        t.vpn_connections[1].live.up = [false, true];
        assert!(t.vpn_gateway_up(VpnGatewayId(0)));
        let routes: Vec<String> = t
            .propagated_routes(rt)
            .map(|r| format!("{} {:?}", r.destination, r.origin))
            .collect();
        assert_eq!(routes, ["172.16.0.0/16 Propagated"]);
        t.vpn_connections[0].live.up = [true, false];
        let routes: Vec<String> = t
            .propagated_routes(rt)
            .map(|r| r.destination.to_string())
            .collect();
        // Static VPN routes first: at an equal prefix they win over BGP ones.
        assert_eq!(routes, ["172.20.0.0/16", "172.16.0.0/16", "172.16.0.0/16"]);
        assert_eq!(
            RouteOrigin::Propagated.aws_name(),
            "EnableVgwRoutePropagation"
        );
    }

    #[test]
    fn connections_follow_awss_rules() {
        assert_eq!(
            errors(
                "\n[[vpn_connection]]\nname = \"v\"\ncustomer_gateway = \"nope\"\nvpn_gateway = \"vgw\"\nroutes = [\"10.0.0.0/8\"]\ntunnel_options = [{ tunnel_inside_cidr = \"169.254.1.0/30\", pre_shared_key = \"0abcdefgh\", dpd_timeout_seconds = 10 }, { tunnel_inside_cidr = \"169.254.10.0/29\", pre_shared_key = \"short\", phase1_lifetime_seconds = 1000, phase2_lifetime_seconds = 2000, ike_versions = [\"ikev3\"] }]\n"
            ),
            [
                format!(
                    "{}vpn_connection[0].customer_gateway \"nope\" is not a declared customer_gateway",
                    at(4, 20)
                ),
                format!(
                    "{}vpn_connection[0].routes[0] static routes need static_routes_only = true (the connection uses BGP)",
                    at(6, 11)
                ),
                format!(
                    "{}vpn_connection[0].tunnel_options[0].tunnel_inside_cidr \"169.254.1.0/30\" is not a valid tunnel inside CIDR: use a /30 in 169.254.0.0/16 other than 169.254.0.0/30-169.254.5.0/30 and 169.254.169.252/30, which AWS reserves",
                    at(7, 42)
                ),
                format!(
                    "{}vpn_connection[0].tunnel_options[0].pre_shared_key a pre-shared key is 8-64 characters, letters, digits, '.' and '_', and does not start with '0'",
                    at(7, 77)
                ),
                format!(
                    "{}vpn_connection[0].tunnel_options[0].dpd_timeout_seconds 10 is not a valid DPD timeout: at least 30 seconds",
                    at(7, 112)
                ),
                format!(
                    "{}vpn_connection[0].tunnel_options[1].tunnel_inside_cidr \"169.254.10.0/29\" is not a valid tunnel inside CIDR: use a /30 in 169.254.0.0/16 other than 169.254.0.0/30-169.254.5.0/30 and 169.254.169.252/30, which AWS reserves",
                    at(7, 141)
                ),
                format!(
                    "{}vpn_connection[0].tunnel_options[1].pre_shared_key a pre-shared key is 8-64 characters, letters, digits, '.' and '_', and does not start with '0'",
                    at(7, 177)
                ),
                format!(
                    "{}vpn_connection[0].tunnel_options[1].phase2_lifetime_seconds phase 2 lifetime 2000 s must be shorter than phase 1 lifetime 1000 s",
                    at(7, 244)
                ),
                format!(
                    "{}vpn_connection[0].tunnel_options[1].ike_versions \"ikev3\" is not an IKE version: use \"ikev1\" and/or \"ikev2\"",
                    at(7, 266)
                ),
            ]
        );
        assert_eq!(
            errors(
                "\n[[vpn_connection]]\nname = \"a\"\ncustomer_gateway = \"hq\"\nvpn_gateway = \"vgw\"\ntunnel_options = [{ tunnel_inside_cidr = \"169.254.10.0/30\", outside_ip_address = \"192.0.2.254\" }]\n\n[[vpn_connection]]\nname = \"b\"\ncustomer_gateway = \"hq\"\nvpn_gateway = \"vgw\"\ntunnel_options = [{ tunnel_inside_cidr = \"169.254.10.0/30\" }]\n"
            ),
            [
                format!(
                    "{}vpn_connection[0].tunnel_options[0].outside_ip_address 192.0.2.254 is already used by internet_host \"web\"",
                    at(6, 82)
                ),
                format!(
                    "{}vpn_connection[1].vpn_gateway vpn_connection \"a\" already joins customer gateway \"hq\" and VPN gateway \"vgw\"; AWS allows one connection per pair",
                    at(11, 15)
                ),
                format!(
                    "{}vpn_connection[1].tunnel_options[0].tunnel_inside_cidr tunnel inside CIDR 169.254.10.0/30 is already used by vpn_connection \"a\" tunnel 1 on VPN gateway \"vgw\"",
                    at(12, 42)
                ),
            ]
        );
        assert_eq!(
            errors(
                "\n[[customer_gateway]]\nname = \"web\"\nip_address = \"203.0.113.70\"\nsite_cidrs = [\"172.19.0.0/15\"]\nsite_addresses = [\"172.20.1.1\"]\n"
            ),
            [
                format!(
                    "{}customer_gateway[2].name \"web\" is already the name of an instance or internet host; a customer gateway's site is a network namespace named after it",
                    at(3, 8)
                ),
                format!(
                    "{}customer_gateway[2].site_cidrs[0] \"172.19.0.0/15\" is not a CIDR block (like \"172.16.0.0/16\")",
                    at(5, 15)
                ),
                format!(
                    "{}customer_gateway[2].site_addresses[0] site address 172.20.1.1 is in none of the customer gateway's site_cidrs",
                    at(6, 19)
                ),
            ]
        );
    }
}
