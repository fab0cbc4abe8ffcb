//! `vpcctl describe-vpn-gateways` and `describe-customer-gateways`: AWS Site-to-Site
//! VPN's virtual private gateways (attachment, Amazon side ASN, the route tables that
//! route to or propagate from each) and customer gateways (address, BGP ASN), as
//! docs/vpn.md describes them. No metrics yet: AWS's are per VPN connection.

use vpc_api::{CustomerGatewayReport, CustomerGatewaysReport, VpnGatewayReport, VpnGatewaysReport};
use vpc_config::{RouteTarget, Topology, VPN_TYPE, VpnGatewayId};
use vpc_ec2::ids::{self, Kind};

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
                routed_from: vec!["app-rt".into()],
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
    fn routes_show_the_route_to_the_gateway_and_its_propagation() {
        let s = crate::report::tests::shared(include_str!("../../../config/vpn.toml"));
        let r = crate::report::routes(&s);
        let rt = r.tables.iter().find(|t| t.name == "app-rt").unwrap();
        assert_eq!(rt.propagating_vgws, ["vgw"]);
        let to_vgw: Vec<(&str, &str, &str)> = rt
            .routes
            .iter()
            .filter(|x| x.target == "vgw")
            .map(|x| (x.destination.as_str(), x.state.as_str(), x.origin.as_str()))
            .collect();
        assert_eq!(to_vgw, [("172.16.0.0/16", "active", "CreateRoute")]);
        assert_eq!(vpn_gateways(&s).vpn_gateways.len(), 1);
        assert_eq!(customer_gateways(&s).customer_gateways.len(), 2);
    }
}
