//! `vpcctl describe-vpn-gateways` and `describe-customer-gateways`: AWS Site-to-Site
//! VPN's virtual private gateways (attachment, Amazon side ASN, the route tables that
//! route to or propagate from each) and customer gateways (address, BGP ASN), as
//! docs/vpn.md describes them; `vpcctl vpn-connections` (each tunnel's status, as
//! AWS's `VgwTelemetry`, from the tunnels' supervisor, `tunnels.rs`) and
//! `vpcctl vpn-config` (the customer side's files, `vpc_vpn::render`).

use std::path::Path;

use vpc_api::{
    CustomerGatewayReport, CustomerGatewaysReport, VpnConfigReport, VpnConnectionReport,
    VpnConnectionsReport, VpnGatewayReport, VpnGatewaysReport, VpnTunnelReport,
};
use vpc_config::{RouteTarget, Topology, VPN_TYPE, VpnConnectionId, VpnGatewayId};
use vpc_ec2::ids::{self, Kind};
use vpc_vpn::render;

use crate::state::Shared;

/// Every VPN gateway of `t`.
pub fn vpn_gateways_of(t: &Topology) -> VpnGatewaysReport {
    let vpn_gateways = t
        .vpn_gateways
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let id = VpnGatewayId(i as u32);
            let tables = |f: &dyn Fn(&vpc_config::RouteTable) -> bool| -> Vec<String> {
                t.route_tables
                    .iter()
                    .filter(|r| f(r))
                    .map(|r| r.name.clone())
                    .collect()
            };
            VpnGatewayReport {
                name: g.name.clone(),
                id: ids::id(Kind::VpnGateway, &g.name),
                state: "available".into(),
                vpn_type: VPN_TYPE.into(),
                amazon_side_asn: g.amazon_side_asn,
                vpc: g.vpc.map(|v| t.vpc(v).name.clone()),
                availability_zone: g.availability_zone.clone(),
                propagating_route_tables: tables(&|r| r.propagating_vgws.contains(&id)),
                routed_from: tables(&|r| {
                    r.routes
                        .iter()
                        .any(|x| x.target == RouteTarget::VpnGateway(id))
                }),
            }
        })
        .collect();
    VpnGatewaysReport { vpn_gateways }
}

/// Every customer gateway of `t`.
pub fn customer_gateways_of(t: &Topology) -> CustomerGatewaysReport {
    CustomerGatewaysReport {
        customer_gateways: t
            .customer_gateways
            .iter()
            .map(|g| CustomerGatewayReport {
                name: g.name.clone(),
                id: ids::id(Kind::CustomerGateway, &g.name),
                state: "available".into(),
                vpn_type: VPN_TYPE.into(),
                ip_address: g.ip_address.to_string(),
                bgp_asn: g.bgp_asn,
                device_name: g.device_name.clone(),
            })
            .collect(),
    }
}

/// Every VPN connection of `t`, its tunnels' status from `observed`.
pub fn vpn_connections_of(
    t: &Topology,
    observed: Option<&crate::tunnels::Observed>,
) -> VpnConnectionsReport {
    let vpn_connections = t
        .vpn_connections
        .iter()
        .map(|c| {
            let status = observed.and_then(|o| o.tunnels.get(&c.name));
            let mut routes: Vec<String> = c.routes.iter().map(ToString::to_string).collect();
            routes.extend(c.live.learned.iter().map(ToString::to_string));
            VpnConnectionReport {
                name: c.name.clone(),
                id: ids::id(Kind::VpnConnection, &c.name),
                state: "available".into(),
                customer_gateway: t.customer_gateway(c.customer_gateway).name.clone(),
                vpn_gateway: t.vpn_gateway(c.vpn_gateway).name.clone(),
                routing: if c.static_routes_only {
                    "static"
                } else {
                    "bgp"
                }
                .into(),
                routes,
                tunnels: c
                    .tunnels
                    .iter()
                    .enumerate()
                    .map(|(k, x)| {
                        let s = status.map(|s| s[k].clone()).unwrap_or_default();
                        VpnTunnelReport {
                            outside_ip_address: x.outside_ip_address.to_string(),
                            tunnel_inside_cidr: x.tunnel_inside_cidr.to_string(),
                            status: if s.up { "UP" } else { "DOWN" }.into(),
                            status_message: s.message,
                            accepted_route_count: s.accepted_routes,
                            last_status_change: s.last_change,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    VpnConnectionsReport { vpn_connections }
}

/// Every VPN connection the daemon runs.
pub fn vpn_connections(s: &Shared) -> VpnConnectionsReport {
    let observed = s.tunnels().map(crate::tunnels::Tunnels::observed);
    vpn_connections_of(s.snapshot().topology(), observed.as_ref())
}

/// The customer side's files for `name` (a VPN connection, or a customer gateway: all
/// its connections) in `format`, under `dir`.
pub fn vpn_config_of(
    t: &Topology,
    name: &str,
    format: &str,
    dir: &str,
) -> Result<VpnConfigReport, String> {
    let format: render::Format = format
        .parse()
        .map_err(|e: render::UnknownFormat| e.to_string())?;
    let conns: Vec<VpnConnectionId> = match t.find_vpn_connection(name) {
        Some(c) => vec![c],
        None => match t.find_customer_gateway(name) {
            Some(g) => t.connections_of_cgw(g).collect(),
            None => {
                return Err(format!(
                    "{name:?} is neither a VPN connection nor a customer gateway"
                ));
            }
        },
    };
    if conns.is_empty() {
        return Err(format!("customer gateway {name:?} has no VPN connection"));
    }
    if !dir.starts_with('/') {
        return Err(format!("{dir:?} is not an absolute directory"));
    }
    let conns: Vec<vpc_vpn::Connection> = conns
        .into_iter()
        .map(|c| crate::tunnels::connection(t, c))
        .collect();
    let refs: Vec<&vpc_vpn::Connection> = conns.iter().collect();
    let files = render::render_customer(&refs, format, Path::new(dir))
        .into_iter()
        .map(|f| (f.path, f.text))
        .collect();
    Ok(VpnConfigReport { files })
}

/// Every VPN gateway the daemon runs.
pub fn vpn_gateways(s: &Shared) -> VpnGatewaysReport {
    vpn_gateways_of(s.snapshot().topology())
}

/// Every customer gateway the daemon knows.
pub fn customer_gateways(s: &Shared) -> CustomerGatewaysReport {
    customer_gateways_of(s.snapshot().topology())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vpn_example_is_reported() {
        let t = vpc_config::parse(include_str!("../../../config/vpn.toml"), "vpn.toml").unwrap();
        let r = vpn_gateways_of(&t);
        assert_eq!(
            r.vpn_gateways,
            [VpnGatewayReport {
                name: "vgw".into(),
                id: ids::id(Kind::VpnGateway, "vgw"),
                state: "available".into(),
                vpn_type: "ipsec.1".into(),
                amazon_side_asn: 64512,
                vpc: Some("corp".into()),
                availability_zone: None,
                propagating_route_tables: vec!["app-rt".into()],
                routed_from: vec![],
            }]
        );
        let c = customer_gateways_of(&t);
        let rows: Vec<(&str, &str, u32)> = c
            .customer_gateways
            .iter()
            .map(|g| (g.name.as_str(), g.ip_address.as_str(), g.bgp_asn))
            .collect();
        assert_eq!(
            rows,
            [
                ("hq", "203.0.113.60", 65001),
                ("branch", "203.0.113.61", 65002)
            ]
        );
        assert_eq!(
            c.customer_gateways[0].device_name.as_deref(),
            Some("hq-firewall")
        );
    }

    #[test]
    fn routes_show_what_the_gateway_propagates_while_a_tunnel_is_up() {
        let s = crate::report::tests::shared(include_str!("../../../config/vpn.toml"));
        let to_vgw = |s: &Shared| -> Vec<(String, String, String)> {
            let r = crate::report::routes(s);
            let rt = r.tables.iter().find(|t| t.name == "app-rt").unwrap();
            assert_eq!(rt.propagating_vgws, ["vgw"]);
            rt.routes
                .iter()
                .filter(|x| x.target == "vgw")
                .map(|x| (x.destination.clone(), x.state.clone(), x.origin.clone()))
                .collect()
        };
        assert_eq!(to_vgw(&s), []);
        // What the tunnels' supervisor hands over when vpn-hq's tunnel 1 is up.
        s.engine().edit(s.now(), |t| {
            let mut next = t.clone();
            next.vpn_connections[0].live = vpc_config::VpnLive {
                up: [true, false],
                learned: vec!["172.16.0.0/16".parse().unwrap()],
            };
            ((), Some(next))
        });
        assert_eq!(
            to_vgw(&s),
            [(
                "172.16.0.0/16".to_owned(),
                "active".to_owned(),
                "EnableVgwRoutePropagation".to_owned()
            )]
        );
        assert_eq!(vpn_gateways(&s).vpn_gateways.len(), 1);
        assert_eq!(customer_gateways(&s).customer_gateways.len(), 2);
        // vpcctl vpn-connections: the tunnels as observed.
        let mut observed = crate::tunnels::Observed::default();
        observed.tunnels.insert(
            "vpn-hq".into(),
            [
                crate::tunnels::TunnelStatus {
                    up: true,
                    message: "1 BGP ROUTES".into(),
                    accepted_routes: 1,
                    last_change: 1_800_000_000,
                },
                crate::tunnels::TunnelStatus::default(),
            ],
        );
        let r = vpn_connections_of(s.snapshot().topology(), Some(&observed));
        let hq = &r.vpn_connections[0];
        assert_eq!(
            (hq.name.as_str(), hq.routing.as_str(), hq.routes.clone()),
            ("vpn-hq", "bgp", vec!["172.16.0.0/16".to_owned()])
        );
        let rows: Vec<(&str, &str, &str, u32)> = hq
            .tunnels
            .iter()
            .map(|x| {
                (
                    x.outside_ip_address.as_str(),
                    x.tunnel_inside_cidr.as_str(),
                    x.status.as_str(),
                    x.accepted_route_count,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("192.0.2.254", "169.254.10.0/30", "UP", 1),
                ("192.0.2.253", "169.254.10.4/30", "DOWN", 0)
            ]
        );
        assert_eq!(r.vpn_connections[1].tunnels[0].status, "DOWN");
    }

    #[test]
    fn applying_the_file_again_keeps_what_the_tunnels_showed() {
        let src = include_str!("../../../config/vpn.toml");
        let s = crate::report::tests::shared(src);
        let live = vpc_config::VpnLive {
            up: [true, true],
            learned: vec!["172.16.0.0/16".parse().unwrap()],
        };
        s.engine().edit(s.now(), |t| {
            let mut next = t.clone();
            next.vpn_connections[0].live = live.clone();
            ((), Some(next))
        });
        let file = vpc_config::parse(src, "vpn.toml").unwrap();
        let (changes, _, applied) = crate::control::apply_topology(file.clone(), false, &s);
        assert_eq!((changes, applied), (vec![], Ok(false)));
        // A real change keeps it too: the propagated route stays through it.
        let mut changed = file;
        changed.vpcs[0].enable_dns_hostnames = !changed.vpcs[0].enable_dns_hostnames;
        let (_, _, applied) = crate::control::apply_topology(changed, false, &s);
        assert_eq!(applied, Ok(true));
        assert_eq!(s.snapshot().topology().vpn_connections[0].live, live);
    }

    #[test]
    fn trace_follows_what_comes_out_of_the_tunnels_from_a_sites_address() {
        let s = crate::report::tests::shared(include_str!("../../../config/vpn.toml"));
        let trace = |source: Option<&str>| {
            crate::report::trace(&s, "vpcd+gw-vgw", "10.20.1.10", "tcp", Some(22), source)
        };
        let site = trace(Some("172.16.1.1")).unwrap();
        assert_eq!(
            site.probe,
            "vpcd+gw-vgw 172.16.1.1 -> 10.20.1.10 tcp port 22 (SYN from port 49152)"
        );
        let stages: Vec<&str> = site.steps.iter().map(|x| x.stage.as_str()).collect();
        assert_eq!(
            stages,
            [
                "vpn-gateway vgw",
                "deliver",
                "nacl inbound app",
                "sg ingress erp/eth0"
            ]
        );
        assert_eq!(
            site.steps[0].decision,
            "from a VPN tunnel into vpc corp to 10.20.1.10 (vpn gateway vgw)"
        );
        assert_eq!(site.verdict, "FORWARD to erp/eth0");
        // From the port's own address: not what the group allows.
        assert_eq!(trace(None).unwrap().verdict, "DROP sg-ingress");
        let e = crate::report::trace(&s, "erp", "172.16.1.1", "icmp", None, Some("10.20.1.99"))
            .unwrap_err();
        assert!(e.contains("--source is for a VPN gateway's port"), "{e}");
        assert!(
            trace(Some("nope"))
                .unwrap_err()
                .contains("not an IPv4 address")
        );
    }

    #[test]
    fn vpn_config_renders_a_sites_files_or_says_why_not() {
        let t = vpc_config::parse(include_str!("../../../config/vpn.toml"), "vpn.toml").unwrap();
        let r = vpn_config_of(&t, "hq", "strongswan", "/srv/hq").unwrap();
        let paths: Vec<&str> = r.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "tunnel1/strongswan.conf",
                "tunnel1/swanctl.conf",
                "tunnel1/updown.sh",
                "tunnel2/strongswan.conf",
                "tunnel2/swanctl.conf",
                "tunnel2/updown.sh",
                "tunnels",
                "routes"
            ]
        );
        let swanctl = &r.files[1].1;
        assert!(swanctl.contains("remote_addrs = 192.0.2.254"), "{swanctl}");
        assert!(
            swanctl.contains("secret = \"hq.tunnel1.secret\""),
            "{swanctl}"
        );
        // A connection by name gives the same; BIRD's file names its prefix.
        assert_eq!(
            vpn_config_of(&t, "vpn-hq", "strongswan", "/srv/hq").unwrap(),
            r
        );
        let bird = vpn_config_of(&t, "hq", "bird", "/srv/hq").unwrap();
        assert!(
            bird.files[0].1.contains("172.16.0.0/16"),
            "{:?}",
            bird.files
        );
        for (name, format, dir, why) in [
            (
                "nope",
                "bird",
                "/x",
                "neither a VPN connection nor a customer gateway",
            ),
            ("hq", "cisco", "/x", "cisco"),
            ("hq", "bird", "relative", "not an absolute directory"),
        ] {
            let e = vpn_config_of(&t, name, format, dir).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}
