//! Answers to control requests, built from the topology and the dataplane's state.
//! What changes at run time (routes, gateways, Elastic IPs) is read from the
//! dataplane's topology; instances, ENIs and internet hosts from the daemon's.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use vpc_api::{
    AddressesReport, CountersReport, DropCount, ElasticIpReport, EniCountersReport, EniFlows,
    EniStatus, FlowReport, FlowsReport, HostStatus, InstanceStatus, InternetGatewayReport,
    InternetHostReport, NatAddressReport, NatGatewayReport, NatGatewaysReport, NatMappingReport,
    NatMetricsReport, PublicIpReport, RouteReport, RouteTableReport, Routes, Status, SubnetStatus,
    TgwRouteReport, TgwRouteTableReport, TraceReport, TraceStep, VpcStatus,
};
use vpc_config::{
    EipAssociation, EniId, NatConnectivity, NatGatewayId, Protocol, RouteTableId, TgwAttachmentId,
    TgwRouteTableId, Topology, VpcId,
};
use vpc_dataplane::trace::Probe;
use vpc_dataplane::{DropReason, EniCounters, NatMapping, NatMetrics, Port};

use crate::state::Shared;

pub fn status(s: &Shared) -> Status {
    let t = &s.topology;
    let vpcs = t
        .vpcs
        .iter()
        .enumerate()
        .map(|(i, v)| VpcStatus {
            name: v.name.clone(),
            cidrs: v.cidrs.iter().map(|c| c.to_string()).collect(),
            owner_id: v.owner_id.clone(),
            region: v.region.clone(),
            subnets: t
                .subnets
                .iter()
                .filter(|sub| sub.vpc == VpcId(i as u32))
                .map(|sub| SubnetStatus {
                    name: sub.name.clone(),
                    cidr: sub.cidr.to_string(),
                    az: sub.az.clone(),
                    route_table: t.route_table(sub.route_table).name.clone(),
                })
                .collect(),
        })
        .collect();
    let instances = t
        .instances
        .iter()
        .enumerate()
        .map(|(i, inst)| InstanceStatus {
            name: inst.name.clone(),
            namespace: s.namespaces[i].clone(),
            enis: inst
                .enis
                .iter()
                .map(|&id| {
                    let eni = t.eni(id);
                    EniStatus {
                        name: t.eni_name(id).to_string(),
                        device: eni.device().to_string(),
                        subnet: t.subnet(eni.subnet).name.clone(),
                        private_ip: eni.private_ip.to_string(),
                        source_dest_check: eni.source_dest_check,
                        link: link(s, Port::Eni(id)),
                    }
                })
                .collect(),
        })
        .collect();
    let internet_hosts = t
        .host_ids()
        .map(|h| HostStatus {
            name: t.internet_host(h).name.clone(),
            namespace: s.host_namespaces[h.index()].clone(),
            device: "eth0".into(),
            address: t.internet_host(h).address.to_string(),
            link: link(s, Port::Host(h)),
        })
        .collect();
    Status {
        pid: std::process::id(),
        uptime_secs: s.uptime_secs(),
        config: s.config_name.clone(),
        vpcs,
        instances,
        internet_hosts,
    }
}

/// A port's link state in words.
fn link(s: &Shared, port: Port) -> String {
    match s.down_reason(port) {
        None => "up".into(),
        Some(why) => format!("down ({why})"),
    }
}

pub fn routes(s: &Shared) -> Routes {
    let dp = s.dataplane();
    let t = dp.topology();
    let tables = t
        .route_tables
        .iter()
        .enumerate()
        .map(|(i, rt)| {
            let id = RouteTableId(i as u32);
            RouteTableReport {
                name: rt.name.clone(),
                vpc: t.vpc(rt.vpc).name.clone(),
                main: rt.main,
                subnets: t
                    .subnets
                    .iter()
                    .filter(|sub| sub.route_table == id)
                    .map(|sub| sub.name.clone())
                    .collect(),
                gateways: rt
                    .gateways
                    .iter()
                    .map(|&g| t.internet_gateway(g).name.clone())
                    .collect(),
                routes: dp
                    .routes(id)
                    .map(|(r, state)| RouteReport {
                        destination: r.destination.to_string(),
                        target: t.route_target_name(r.target),
                        state: state.name().into(),
                        origin: r.origin.aws_name().into(),
                    })
                    .collect(),
            }
        })
        .collect();
    Routes {
        tables,
        transit_gateway_route_tables: tgw_route_tables(t),
    }
}

/// Every transit gateway route table with its effective routes
/// ([`Topology::tgw_routes`]: what the dataplane routes by).
fn tgw_route_tables(t: &Topology) -> Vec<TgwRouteTableReport> {
    let names = |atts: &[TgwAttachmentId]| -> Vec<String> {
        atts.iter()
            .map(|&a| t.tgw_attachment(a).name.clone())
            .collect()
    };
    t.tgw_route_tables
        .iter()
        .enumerate()
        .map(|(i, rt)| TgwRouteTableReport {
            name: rt.name.clone(),
            transit_gateway: t.transit_gateway(rt.transit_gateway).name.clone(),
            default: rt.default,
            associations: names(&rt.associations),
            propagations: names(&rt.propagations),
            routes: t
                .tgw_routes(TgwRouteTableId(i as u32))
                .into_iter()
                .map(|r| TgwRouteReport {
                    destination: r.destination.to_string(),
                    target: t.tgw_route_target_name(r.target).to_owned(),
                    route_type: r.route_type.aws_name().into(),
                    state: r.state.aws_name().into(),
                })
                .collect(),
        })
        .collect()
}

pub fn counters(s: &Shared) -> CountersReport {
    let t = &s.topology;
    let c = s.dataplane().counters().clone();
    let port = |port: Port| {
        let e: &EniCounters = c.port(port);
        EniCountersReport {
            name: s.port_name(port),
            rx_packets: e.rx_packets,
            rx_bytes: e.rx_bytes,
            tx_packets: e.tx_packets,
            tx_bytes: e.tx_bytes,
            tx_errors: s.tx_errors(port),
            drops: DropReason::ALL
                .iter()
                .filter(|r| e.dropped(**r) > 0)
                .map(|r| (r.name().to_owned(), e.dropped(*r)))
                .collect(),
        }
    };
    let enis = t.eni_ids().map(|e| port(Port::Eni(e))).collect();
    let hosts = t.host_ids().map(|h| port(Port::Host(h))).collect();
    let drops = DropReason::ALL
        .iter()
        .map(|r| DropCount {
            reason: r.name().into(),
            description: r.description().into(),
            count: c.dropped(*r),
        })
        .collect();
    let router = BTreeMap::from([
        ("echo-replies".to_owned(), c.router.echo_replies),
        ("icmp-errors-sent".to_owned(), c.router.icmp_errors_sent),
        (
            "icmp-errors-rate-limited".to_owned(),
            c.router.icmp_errors_rate_limited,
        ),
        (
            "trailing-bytes-trimmed".to_owned(),
            c.router.trailing_bytes_trimmed,
        ),
        ("superpackets".to_owned(), c.router.superpackets),
        ("udp-superpackets-written".to_owned(), s.udp_superpackets()),
    ]);
    CountersReport {
        enis,
        hosts,
        drops,
        router,
    }
}

/// The tracked connections of every ENI, or of one instance's ENIs, or of one ENI.
pub fn flows(s: &Shared, instance: Option<&str>) -> Result<FlowsReport, String> {
    let t = &s.topology;
    let enis: Vec<EniId> = match instance {
        None => t.eni_ids().collect(),
        Some(name) => {
            let of_instance: Vec<EniId> = t
                .instances
                .iter()
                .find(|i| i.name == name)
                .map(|i| i.enis.clone())
                .unwrap_or_default();
            if !of_instance.is_empty() {
                of_instance
            } else if let Some(e) = t.find_eni(name) {
                vec![e]
            } else {
                return Err(format!(
                    "{name:?} is neither an instance nor a network interface (instance/ethN)"
                ));
            }
        }
    };
    let now = s.now();
    let dp = s.dataplane();
    let enis = enis
        .into_iter()
        .map(|id| {
            let (stats, tracked) = dp.conntrack_stats(id);
            EniFlows {
                name: t.eni_name(id).to_string(),
                tracked: tracked as u64,
                inserted: stats.inserted,
                expired: stats.expired,
                flows: dp
                    .flows(id, now)
                    .map(|f| {
                        let ports = matches!(f.proto, 6 | 17);
                        let end = |ip: std::net::Ipv4Addr, port: u16| {
                            if ports {
                                format!("{ip}:{port}")
                            } else {
                                ip.to_string()
                            }
                        };
                        FlowReport {
                            proto: Protocol::Number(f.proto).to_string(),
                            src: end(f.src, f.src_port),
                            dst: end(f.dst, f.dst_port),
                            state: f.state.to_owned(),
                            expires_in_secs: f.expires_in.as_secs(),
                            packets_original: f.packets_original,
                            packets_reply: f.packets_reply,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(FlowsReport { enis })
}

/// Walks a probe through the live dataplane.
pub fn trace(
    s: &Shared,
    from: &str,
    to: &str,
    proto: &str,
    port: Option<u16>,
) -> Result<TraceReport, String> {
    let t = &s.topology;
    let origin: Port = match t.find_eni(from) {
        Some(eni) => eni.into(),
        None => t
            .host_ids()
            .find(|&h| t.internet_host(h).name == from)
            .ok_or_else(|| {
                format!(
                    "--from {from:?} is neither an instance, a network interface (instance/ethN) nor an internet host"
                )
            })?
            .into(),
    };
    let dst: std::net::Ipv4Addr = to
        .parse()
        .map_err(|_| format!("--to {to:?} is not an IPv4 address"))?;
    let probe = match (proto, port) {
        ("tcp", Some(p)) => Probe::Tcp(p),
        ("udp", Some(p)) => Probe::Udp(p),
        ("icmp", None) => Probe::Icmp,
        ("tcp" | "udp", None) => return Err(format!("--proto {proto} needs --port")),
        ("icmp", Some(_)) => return Err("--proto icmp takes no --port".to_owned()),
        _ => return Err(format!("--proto {proto:?}: use tcp, udp or icmp")),
    };
    let now = s.now();
    let dp = s.dataplane();
    let walked = dp.trace(now, origin, dst, probe);
    let described = vpc_dataplane::trace::describe(dp.topology(), &walked);
    drop(dp);
    Ok(TraceReport {
        probe: format!(
            "{} {} -> {dst} {}",
            vpc_dataplane::trace::port_name(t, origin),
            walked.src,
            probe.describe()
        ),
        steps: described
            .steps
            .into_iter()
            .map(|(stage, decision)| TraceStep { stage, decision })
            .collect(),
        verdict: described.verdict,
        because: described.because,
    })
}

/// NAT gateways (all, or the one named `name`), with their translations if `mappings`.
pub fn nat_gateways(
    s: &Shared,
    name: Option<&str>,
    mappings: bool,
) -> Result<NatGatewaysReport, String> {
    let now = s.now();
    let dp = s.dataplane();
    let t = dp.topology();
    let ids: Vec<NatGatewayId> = match name {
        None => (0..t.nat_gateways.len() as u32).map(NatGatewayId).collect(),
        Some(name) => match t.nat_gateways.iter().position(|n| n.name == name) {
            Some(i) => vec![NatGatewayId(i as u32)],
            None => return Err(format!("{name:?} is not a NAT gateway")),
        },
    };
    let nat_gateways = ids
        .into_iter()
        .map(|id| {
            let nat = t.nat_gateway(id);
            let subnet = t.subnet(nat.subnet);
            NatGatewayReport {
                name: nat.name.clone(),
                subnet: subnet.name.clone(),
                az: subnet.az.clone(),
                connectivity: match nat.connectivity {
                    NatConnectivity::Public => "public",
                    NatConnectivity::Private => "private",
                }
                .into(),
                state: if nat.deleted { "deleted" } else { "available" }.into(),
                source_ports: nat.source_ports.to_string(),
                addresses: nat
                    .private_ips
                    .iter()
                    .zip(t.nat_public_ips(id))
                    .map(|(private, public)| NatAddressReport {
                        private_ip: private.to_string(),
                        elastic_ip: public.map(|p| p.to_string()),
                    })
                    .collect(),
                metrics: metrics(dp.nat_metrics(id)),
                mappings: mappings.then(|| {
                    dp.nat_mappings(id, now)
                        .iter()
                        .map(mapping_report)
                        .collect()
                }),
            }
        })
        .collect();
    Ok(NatGatewaysReport { nat_gateways })
}

fn metrics(m: NatMetrics) -> NatMetricsReport {
    NatMetricsReport {
        active_connection_count: m.active_connection_count,
        connection_attempt_count: m.connection_attempt_count,
        connection_established_count: m.connection_established_count,
        error_port_allocation: m.error_port_allocation,
        idle_timeout_count: m.idle_timeout_count,
        packets_drop_count: m.packets_drop_count,
        bytes_in_from_source: m.bytes_in_from_source,
        bytes_out_to_destination: m.bytes_out_to_destination,
        bytes_in_from_destination: m.bytes_in_from_destination,
        bytes_out_to_source: m.bytes_out_to_source,
        packets_in_from_source: m.packets_in_from_source,
        packets_out_to_destination: m.packets_out_to_destination,
        packets_in_from_destination: m.packets_in_from_destination,
        packets_out_to_source: m.packets_out_to_source,
    }
}

fn mapping_report(m: &NatMapping) -> NatMappingReport {
    // ICMP echo: the identifier is translated; the remote end has none.
    let ports = matches!(m.proto, 6 | 17);
    let end = |(ip, port): (Ipv4Addr, u16)| {
        if ports {
            format!("{ip}:{port}")
        } else {
            format!("{ip} id {port}")
        }
    };
    NatMappingReport {
        proto: Protocol::Number(m.proto).to_string(),
        inside: end(m.inside),
        outside: end(m.outside),
        remote: if ports {
            end(m.remote)
        } else {
            m.remote.0.to_string()
        },
        expires_in_secs: m.expires_in.as_secs(),
    }
}

/// Elastic IPs, the ENIs' public addresses, internet gateways and internet hosts.
pub fn addresses(s: &Shared) -> AddressesReport {
    let dp = s.dataplane();
    let t = dp.topology();
    let elastic_ips = t
        .elastic_ips
        .iter()
        .map(|e| ElasticIpReport {
            address: e.address.to_string(),
            name: e.name.clone(),
            association: e.association.map(|a| association(t, a)),
        })
        .collect();
    let public_ips = t
        .eni_ids()
        .filter_map(|e| {
            let public = t.eni_public_ip(e)?;
            let elastic = t
                .elastic_ips
                .iter()
                .any(|x| x.association == Some(EipAssociation::Eni(e)));
            Some(PublicIpReport {
                eni: t.eni_name(e).to_string(),
                private_ip: t.eni(e).private_ip.to_string(),
                public_ip: public.to_string(),
                kind: if elastic {
                    "elastic-ip"
                } else {
                    "auto-assigned"
                }
                .into(),
            })
        })
        .collect();
    let internet_gateways = t
        .internet_gateways
        .iter()
        .map(|g| InternetGatewayReport {
            name: g.name.clone(),
            vpc: g.vpc.map(|v| t.vpc(v).name.clone()),
        })
        .collect();
    let internet_hosts = t
        .internet_hosts
        .iter()
        .map(|h| InternetHostReport {
            name: h.name.clone(),
            address: h.address.to_string(),
        })
        .collect();
    AddressesReport {
        elastic_ips,
        public_ips,
        internet_gateways,
        internet_hosts,
    }
}

/// What an Elastic IP is associated with, in words: `web/eth0`, `nat-a address #0 (10.0.1.5)`.
pub fn association(t: &Topology, a: EipAssociation) -> String {
    match a {
        EipAssociation::Eni(e) => t.eni_name(e).to_string(),
        EipAssociation::NatGateway(n, i) => {
            let nat = t.nat_gateway(n);
            match nat.private_ips.get(i) {
                Some(ip) => format!("{} address #{i} ({ip})", nat.name),
                None => format!("{} address #{i}", nat.name),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The daemon's shared state for a configuration, without namespaces or devices.
    pub(crate) fn shared(toml: &str) -> Shared {
        let t = vpc_config::parse(toml, "test.toml").unwrap_or_else(|e| panic!("{e}"));
        let namespaces = t.instances.iter().map(|i| i.name.clone()).collect();
        let hosts = t.internet_hosts.iter().map(|h| h.name.clone()).collect();
        Shared::new(
            t,
            "test.toml".into(),
            namespaces,
            hosts,
            vec![],
            false,
            false,
        )
    }

    pub(crate) const HUB_AND_SPOKE: &str = include_str!("../../../config/hub-and-spoke.toml");
    pub(crate) const PEERING: &str = include_str!("../../../config/peering.toml");

    /// A transit gateway route table's routes as `destination target type state`.
    pub(crate) fn tgw_routes(r: &Routes, table: &str) -> Vec<String> {
        let t = r
            .transit_gateway_route_tables
            .iter()
            .find(|t| t.name == table)
            .unwrap_or_else(|| panic!("no transit gateway route table {table}: {r:?}"));
        t.routes
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r.destination, r.target, r.route_type, r.state
                )
            })
            .collect()
    }

    #[test]
    fn routes_list_transit_gateway_route_tables_with_their_effective_routes() {
        let s = shared(HUB_AND_SPOKE);
        let r = routes(&s);
        // The VPC tables are listed as before: four declared, four implicit main ones.
        assert_eq!(r.tables.len(), 8);
        assert_eq!(r.tables[0].name, "shared-rt");
        let tables: Vec<String> = r
            .transit_gateway_route_tables
            .iter()
            .map(|t| {
                format!(
                    "{} ({}{}) associations [{}] propagations [{}]",
                    t.name,
                    t.transit_gateway,
                    if t.default { ", default" } else { "" },
                    t.associations.join(" "),
                    t.propagations.join(" ")
                )
            })
            .collect();
        assert_eq!(
            tables,
            [
                "spokes-rt (tgw) associations [att-s1 att-s2] propagations [att-shared]",
                "shared-rt (tgw) associations [att-shared] propagations [att-s1 att-s2]",
                "iso-rt (tgw) associations [att-iso] propagations []",
            ]
        );
        assert_eq!(
            tgw_routes(&r, "spokes-rt"),
            ["10.10.0.0/16 att-shared propagated active"]
        );
        assert_eq!(
            tgw_routes(&r, "shared-rt"),
            [
                "10.11.0.0/16 att-s1 propagated active",
                "10.12.0.0/16 att-s2 propagated active"
            ]
        );
        assert!(tgw_routes(&r, "iso-rt").is_empty());
    }

    #[test]
    fn status_shows_each_vpcs_owner_and_region() {
        let s = shared(PEERING);
        let vpcs: Vec<(String, String, String)> = status(&s)
            .vpcs
            .into_iter()
            .map(|v| (v.name, v.owner_id, v.region))
            .collect();
        let vpc = |name: &str, owner: &str| (name.into(), owner.into(), "us-east-1".into());
        assert_eq!(
            vpcs,
            [
                vpc("a", "123456789012"),
                vpc("b", "123456789012"),
                vpc("c", "444455556666")
            ]
        );
    }
}
