//! Answers to control requests, built from the topology and the dataplane's state.
//! What changes at run time (routes, gateways, Elastic IPs, peering connections,
//! transit gateway attachments and route tables, multicast groups) is read from the
//! dataplane's topology; instances, ENIs and internet hosts from the daemon's.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use vpc_api::{
    AddressesReport, CountersReport, DropCount, ElasticIpReport, EniCountersReport, EniFlows,
    EniStatus, FlowReport, FlowsReport, HostStatus, InstanceStatus, InternetGatewayReport,
    InternetHostReport, MulticastAssociationReport, MulticastDomainReport, MulticastDomainsReport,
    MulticastGroupReport, NatAddressReport, NatGatewayReport, NatGatewaysReport, NatMappingReport,
    NatMetricsReport, PeeringVpcReport, PublicIpReport, RouteReport, RouteTableReport, Routes,
    Status, SubnetStatus, TagReport, TagsReport, TgwAttachmentReport, TgwAttachmentSubnetReport,
    TgwMetricsReport, TgwRouteReport, TgwRouteTableReport, TraceReport, TraceStep,
    TransitGatewayReport, TransitGatewaysReport, VpcPeeringConnectionReport,
    VpcPeeringConnectionsReport, VpcStatus,
};
use vpc_config::{
    EipAssociation, EniId, NatConnectivity, NatGatewayId, Protocol, RouteTableId, TgwAttachmentId,
    TgwAttachmentKind, TgwRouteTableId, Topology, TransitGatewayId, VpcId,
};
use vpc_dataplane::trace::Probe;
use vpc_dataplane::{DropReason, EniCounters, NatMapping, NatMetrics, Port, TgwMetrics};

use crate::state::Shared;

pub fn status(s: &Shared) -> Status {
    // The running topology (an apply may have added subnets or changed an ENI's
    // attributes); its instances and ENIs are the ones the daemon started with.
    let snapshot = s.snapshot();
    let t = snapshot.topology();
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
        .map(|inst| InstanceStatus {
            name: inst.name.clone(),
            namespace: s.namespace(&inst.name),
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
            metadata_options: {
                let o = inst.launch.metadata_options;
                vpc_api::MetadataOptionsStatus {
                    http_tokens: o.http_tokens.aws_name().to_owned(),
                    http_put_response_hop_limit: o.http_put_response_hop_limit,
                    http_endpoint: o.http_endpoint.aws_name().to_owned(),
                }
            },
        })
        .collect();
    let internet_hosts = t
        .host_ids()
        .map(|h| HostStatus {
            name: t.internet_host(h).name.clone(),
            namespace: s.namespace(&t.internet_host(h).name),
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
    let dp = s.snapshot();
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
                propagating_vgws: rt
                    .propagating_vgws
                    .iter()
                    .map(|&g| t.vpn_gateway(g).name.clone())
                    .collect(),
                routes: dp
                    .routes(id)
                    .map(|(r, state)| RouteReport {
                        destination: match r.target {
                            // A block of a gateway endpoint's prefix list: named.
                            vpc_config::RouteTarget::VpcEndpoint(e) => format!(
                                "{} ({})",
                                r.destination,
                                t.aws_service(t.vpc_endpoint(e).service).service_name()
                            ),
                            _ => r.destination.to_string(),
                        },
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
    let dp = s.snapshot();
    let t = dp.topology();
    let c = s.counters_of(&dp);
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
        ("time-replies".to_owned(), c.router.time_replies),
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
        ("arp-replies".to_owned(), c.router.arp_replies),
        ("udp-superpackets-written".to_owned(), s.udp_superpackets()),
    ]);
    CountersReport {
        enis,
        hosts,
        services: port(Port::Services),
        drops,
        router,
    }
}

/// The tracked connections of every ENI, or of one instance's ENIs, or of one ENI.
pub fn flows(s: &Shared, instance: Option<&str>) -> Result<FlowsReport, String> {
    let dp = s.snapshot();
    let t = dp.topology();
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
    source: Option<&str>,
) -> Result<TraceReport, String> {
    let dp = s.snapshot();
    let t = dp.topology();
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
    // Only a VPN gateway's far end sends from addresses not its own (the sites').
    let src = match (source, origin) {
        (None, _) => None,
        (Some(a), Port::Host(h))
            if matches!(t.internet_host(h).role, vpc_config::HostRole::VpnGateway(_)) =>
        {
            Some(
                a.parse::<std::net::Ipv4Addr>()
                    .map_err(|_| format!("--source {a:?} is not an IPv4 address"))?,
            )
        }
        (Some(_), _) => {
            return Err(format!(
                "--source is for a VPN gateway's port (vpcd+gw-NAME), which sends what comes out of the tunnels; {from} sends from its own address"
            ));
        }
    };
    let now = s.now();
    let walked = dp.trace_from(now, origin, src, dst, probe);
    let described = vpc_dataplane::trace::describe(dp.topology(), &walked);
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
    let dp = s.snapshot();
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
/// The tags of every resource, or of resource `resource_id`.
pub fn tags(s: &Shared, resource_id: Option<&str>) -> TagsReport {
    let dp = s.snapshot();
    let tags = dp
        .topology()
        .tags
        .iter()
        .filter(|(id, _)| resource_id.is_none_or(|r| r == id.as_str()))
        .flat_map(|(id, tags)| {
            tags.iter().map(move |(key, value)| TagReport {
                resource_id: id.clone(),
                key: key.clone(),
                value: value.clone(),
            })
        })
        .collect();
    TagsReport { tags }
}

pub fn addresses(s: &Shared) -> AddressesReport {
    let dp = s.snapshot();
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
    // A VPN gateway's far end is a port, not an address of the internet.
    let internet_hosts = t
        .internet_hosts
        .iter()
        .filter(|h| !matches!(h.role, vpc_config::HostRole::VpnGateway(_)))
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

/// VPC peering connections, deleted ones too, with both sides.
pub fn vpc_peering_connections(s: &Shared) -> VpcPeeringConnectionsReport {
    let dp = s.snapshot();
    let t = dp.topology();
    let side = |v: VpcId| {
        let vpc = t.vpc(v);
        PeeringVpcReport {
            vpc: vpc.name.clone(),
            cidrs: vpc.cidrs.iter().map(|c| c.to_string()).collect(),
            owner_id: vpc.owner_id.clone(),
            region: vpc.region.clone(),
        }
    };
    let vpc_peering_connections = t
        .vpc_peering_connections
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let inter_region = p.inter_region(t);
            VpcPeeringConnectionReport {
                name: p.name.clone(),
                requester: side(p.requester),
                accepter: side(p.accepter),
                status: p.status.aws_name().into(),
                inter_region,
                mtu: dp.vpc_peering_mtu(vpc_config::VpcPeeringConnectionId(i as u32)),
            }
        })
        .collect();
    VpcPeeringConnectionsReport {
        vpc_peering_connections,
    }
}

/// Transit gateways with their options, metrics and attachments.
pub fn transit_gateways(s: &Shared) -> TransitGatewaysReport {
    let dp = s.snapshot();
    let t = dp.topology();
    let transit_gateways = t
        .transit_gateways
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let id = TransitGatewayId(i as u32);
            let mut shared_with: Vec<String> = Vec::new();
            for share in t
                .resource_shares
                .iter()
                .filter(|r| r.resources.contains(&id))
            {
                for p in &share.principals {
                    if !shared_with.contains(p) {
                        shared_with.push(p.clone());
                    }
                }
            }
            TransitGatewayReport {
                name: g.name.clone(),
                owner_id: g.owner_id.clone(),
                region: g.region.clone(),
                amazon_side_asn: g.amazon_side_asn,
                default_route_table_association: g.default_route_table_association,
                default_route_table_propagation: g.default_route_table_propagation,
                auto_accept_shared_attachments: g.auto_accept_shared_attachments,
                multicast_support: g.multicast_support,
                default_route_table: g
                    .default_route_table
                    .map(|r| t.tgw_route_table(r).name.clone()),
                shared_with,
                metrics: tgw_metrics(dp.tgw_metrics(id)),
                attachments: (0..t.tgw_attachments.len() as u32)
                    .map(TgwAttachmentId)
                    .filter(|&a| t.tgw_attachment(a).is_on(id))
                    .map(|a| tgw_attachment(t, id, a))
                    .collect(),
            }
        })
        .collect();
    TransitGatewaysReport { transit_gateways }
}

fn tgw_metrics(m: TgwMetrics) -> TgwMetricsReport {
    TgwMetricsReport {
        bytes_in: m.bytes_in,
        bytes_out: m.bytes_out,
        packets_in: m.packets_in,
        packets_out: m.packets_out,
        packet_drop_count_blackhole: m.packet_drop_count_blackhole,
        packet_drop_count_no_route: m.packet_drop_count_no_route,
    }
}

/// Attachment `att` as transit gateway `tgw` (one of its gateways) sees it.
fn tgw_attachment(
    t: &Topology,
    tgw: TransitGatewayId,
    att: TgwAttachmentId,
) -> TgwAttachmentReport {
    let a = t.tgw_attachment(att);
    let (kind, vpc, subnets, appliance_mode) = match &a.kind {
        TgwAttachmentKind::Vpc {
            vpc,
            subnets,
            private_ips,
            appliance_mode,
        } => (
            "vpc",
            Some(t.vpc(*vpc).name.clone()),
            subnets
                .iter()
                .zip(private_ips)
                .map(|(&sub, ip)| TgwAttachmentSubnetReport {
                    subnet: t.subnet(sub).name.clone(),
                    az: t.subnet(sub).az.clone(),
                    private_ip: ip.to_string(),
                })
                .collect(),
            *appliance_mode,
        ),
        TgwAttachmentKind::Peering { .. } => ("peering", None, Vec::new(), false),
    };
    let peering = a.peer_of(tgw).map(|peer| {
        let role = if a.transit_gateway == tgw {
            "requester"
        } else {
            "accepter"
        };
        (t.transit_gateway(peer).name.clone(), role.to_owned())
    });
    let (peer, peering_role) = peering.unzip();
    TgwAttachmentReport {
        name: a.name.clone(),
        kind: kind.into(),
        vpc,
        peer,
        peering_role,
        subnets,
        appliance_mode,
        status: a.status.aws_name().into(),
        association: t
            .tgw_association_on(att, tgw)
            .map(|r| t.tgw_route_table(r).name.clone()),
        propagations: t
            .tgw_route_tables
            .iter()
            .filter(|r| r.transit_gateway == tgw && r.propagations.contains(&att))
            .map(|r| r.name.clone())
            .collect(),
    }
}

/// Transit gateway multicast domains with their associations and groups.
pub fn multicast_domains(s: &Shared) -> MulticastDomainsReport {
    let dp = s.snapshot();
    let t = dp.topology();
    let multicast_domains = t
        .multicast_domains
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut groups: BTreeMap<Ipv4Addr, MulticastGroupReport> = BTreeMap::new();
            let lists = [(&d.members, false), (&d.sources, true)];
            for (list, source) in lists {
                for &(g, e) in list {
                    let group = groups.entry(g).or_insert_with(|| MulticastGroupReport {
                        group: g.to_string(),
                        members: Vec::new(),
                        sources: Vec::new(),
                        joined: Vec::new(),
                    });
                    let names = if source {
                        &mut group.sources
                    } else {
                        &mut group.members
                    };
                    names.push(t.eni_name(e).to_string());
                }
            }
            // Members that joined with IGMP, from the dataplane's state.
            let domain = vpc_config::MulticastDomainId(i as u32);
            for (_, g, members, registered) in
                dp.multicast_groups().into_iter().filter(|x| x.0 == domain)
            {
                if members.len() > registered {
                    let group = groups.entry(g).or_insert_with(|| MulticastGroupReport {
                        group: g.to_string(),
                        members: Vec::new(),
                        sources: Vec::new(),
                        joined: Vec::new(),
                    });
                    group.joined = members[registered..]
                        .iter()
                        .map(|&e| t.eni_name(e).to_string())
                        .collect();
                }
            }
            MulticastDomainReport {
                name: d.name.clone(),
                transit_gateway: t.transit_gateway(d.transit_gateway).name.clone(),
                igmpv2: d.igmpv2,
                associations: d
                    .associations
                    .iter()
                    .map(|&(a, sub)| MulticastAssociationReport {
                        attachment: t.tgw_attachment(a).name.clone(),
                        subnet: t.subnet(sub).name.clone(),
                    })
                    .collect(),
                groups: groups.into_values().collect(),
            }
        })
        .collect();
    MulticastDomainsReport { multicast_domains }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The daemon's shared state for a configuration, without namespaces or devices.
    pub(crate) fn shared(toml: &str) -> Shared {
        let t = vpc_config::parse(toml, "test.toml").unwrap_or_else(|e| panic!("{e}"));
        Shared::new(
            &t,
            ("test.toml".into(), String::new()),
            vec![],
            (false, false),
            crate::state::IoOptions {
                threads: 1,
                xdp: false,
                runtime: None,
            },
        )
    }

    pub(crate) const HUB_AND_SPOKE: &str = include_str!("../../../config/hub-and-spoke.toml");
    pub(crate) const PEERING: &str = include_str!("../../../config/peering.toml");

    /// Two transit gateways of two accounts and regions, peered (pending acceptance),
    /// the first shared with the other's account; a VPC attached to the first through
    /// two subnets in appliance mode, with a multicast domain; a VPC of the other
    /// account attached to it too (pending acceptance); a VPC peering connection across
    /// regions.
    pub(crate) const FABRIC: &str = r#"
[[transit_gateway]]
name = "east"
multicast_support = "enable"

[[transit_gateway]]
name = "west"
region = "eu-west-1"
owner_id = "444455556666"
amazon_side_asn = 64513

[[resource_share]]
name = "east-share"
resources = ["east"]
principals = ["444455556666"]

[[vpc]]
name = "a"
cidr = "10.1.0.0/16"

[[subnet]]
name = "a-1"
vpc = "a"
cidr = "10.1.1.0/24"
az = "a"

[[subnet]]
name = "a-2"
vpc = "a"
cidr = "10.1.2.0/24"
az = "b"

[[instance]]
name = "sender"
subnet = "a-1"
private_ip = "10.1.1.10"

[[instance]]
name = "recv"
subnet = "a-2"
private_ip = "10.1.2.10"

[[transit_gateway_vpc_attachment]]
name = "att-a"
transit_gateway = "east"
vpc = "a"
subnets = ["a-1", "a-2"]
appliance_mode_support = "enable"

[[transit_gateway_peering_attachment]]
name = "east-west"
transit_gateway = "east"
peer_transit_gateway = "west"

[[transit_gateway_multicast_domain]]
name = "mcast"
transit_gateway = "east"
igmpv2_support = "enable"
associations = [{ transit_gateway_attachment = "att-a", subnets = ["a-1", "a-2"] }]
group_members = [{ group_ip_address = "239.1.1.1", network_interface = "recv/eth0" }]
group_sources = [{ group_ip_address = "239.1.1.1", network_interface = "sender/eth0" }]

[[vpc]]
name = "w"
cidr = "10.9.0.0/16"
region = "eu-west-1"

[[vpc_peering_connection]]
name = "a-w"
vpc = "a"
peer_vpc = "w"

[[vpc]]
name = "b"
cidr = "10.2.0.0/16"
owner_id = "444455556666"

[[subnet]]
name = "b-1"
vpc = "b"
cidr = "10.2.1.0/24"
az = "a"

[[transit_gateway_vpc_attachment]]
name = "att-b"
transit_gateway = "east"
vpc = "b"
subnets = ["b-1"]
"#;

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

    #[test]
    fn peering_connections_show_both_sides_and_the_mtu() {
        let r = vpc_peering_connections(&shared(PEERING));
        let lines: Vec<String> = r
            .vpc_peering_connections
            .iter()
            .map(|p| {
                format!(
                    "{} {} {}/{}/{} -> {}/{}/{} inter-region {} mtu {}",
                    p.name,
                    p.status,
                    p.requester.vpc,
                    p.requester.cidrs.join(","),
                    p.requester.owner_id,
                    p.accepter.vpc,
                    p.accepter.cidrs.join(","),
                    p.accepter.owner_id,
                    p.inter_region,
                    p.mtu
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                "a-b active a/10.1.0.0/16/123456789012 -> b/10.2.0.0/16/123456789012 inter-region false mtu 9001",
                "b-c active b/10.2.0.0/16/123456789012 -> c/10.3.0.0/16/444455556666 inter-region false mtu 9001",
            ]
        );
        let r = vpc_peering_connections(&shared(FABRIC));
        let p = &r.vpc_peering_connections[0];
        assert_eq!(
            (p.name.as_str(), p.inter_region, p.mtu),
            ("a-w", true, 1500)
        );
        assert_eq!(
            (p.requester.region.as_str(), p.accepter.region.as_str()),
            ("us-east-1", "eu-west-1")
        );
    }

    #[test]
    fn transit_gateways_show_options_shares_metrics_and_attachments_from_each_side() {
        let r = transit_gateways(&shared(FABRIC));
        let [east, west] = &r.transit_gateways[..] else {
            panic!("{r:?}");
        };
        assert_eq!(
            (
                east.name.as_str(),
                east.owner_id.as_str(),
                east.region.as_str(),
                east.amazon_side_asn
            ),
            ("east", "123456789012", "us-east-1", 64512)
        );
        assert!(east.default_route_table_association && east.default_route_table_propagation);
        assert!(east.multicast_support && !east.auto_accept_shared_attachments);
        assert_eq!(east.default_route_table.as_deref(), Some("east-default"));
        assert_eq!(east.shared_with, ["444455556666"]);
        assert_eq!(east.metrics, TgwMetricsReport::default());
        let [att, att_b, peering] = &east.attachments[..] else {
            panic!("{east:?}");
        };
        assert_eq!(
            (att.name.as_str(), att.kind.as_str(), att.vpc.as_deref()),
            ("att-a", "vpc", Some("a"))
        );
        let subnets: Vec<String> = att
            .subnets
            .iter()
            .map(|s| format!("{} {} {}", s.subnet, s.az, s.private_ip))
            .collect();
        assert_eq!(subnets, ["a-1 a 10.1.1.4", "a-2 b 10.1.2.4"]);
        assert!(att.appliance_mode);
        assert_eq!(att.status, "available");
        assert_eq!(att.association.as_deref(), Some("east-default"));
        assert_eq!(att.propagations, ["east-default"]);
        assert_eq!(
            (att_b.vpc.as_deref(), att_b.status.as_str()),
            (Some("b"), "pending-acceptance")
        );
        // A peering attachment is listed on both gateways, each naming the other.
        assert_eq!(
            (
                peering.name.as_str(),
                peering.kind.as_str(),
                peering.peer.as_deref(),
                peering.peering_role.as_deref(),
                peering.status.as_str()
            ),
            (
                "east-west",
                "peering",
                Some("west"),
                Some("requester"),
                "pending-acceptance"
            )
        );
        assert!(peering.subnets.is_empty() && peering.association.is_none());
        assert_eq!(
            (
                west.region.as_str(),
                west.owner_id.as_str(),
                west.amazon_side_asn
            ),
            ("eu-west-1", "444455556666", 64513)
        );
        assert!(west.shared_with.is_empty());
        let [from_west] = &west.attachments[..] else {
            panic!("{west:?}");
        };
        assert_eq!(
            (from_west.peer.as_deref(), from_west.peering_role.as_deref()),
            (Some("east"), Some("accepter"))
        );
    }

    #[test]
    fn multicast_domains_show_associations_and_groups() {
        let r = multicast_domains(&shared(FABRIC));
        let [d] = &r.multicast_domains[..] else {
            panic!("{r:?}");
        };
        assert_eq!(
            (d.name.as_str(), d.transit_gateway.as_str(), d.igmpv2),
            ("mcast", "east", true)
        );
        let associations: Vec<String> = d
            .associations
            .iter()
            .map(|a| format!("{} {}", a.attachment, a.subnet))
            .collect();
        assert_eq!(associations, ["att-a a-1", "att-a a-2"]);
        assert_eq!(
            d.groups,
            [MulticastGroupReport {
                group: "239.1.1.1".into(),
                members: vec!["recv/eth0".into()],
                sources: vec!["sender/eth0".into()],
                joined: vec![],
            }]
        );
    }
}
