//! Answers to control requests, built from the topology and the dataplane's state.

use std::collections::BTreeMap;

use vpc_api::{
    CountersReport, DropCount, EniCountersReport, EniFlows, EniStatus, FlowReport, FlowsReport,
    InstanceStatus, RouteReport, RouteTableReport, Routes, Status, SubnetStatus, TraceReport,
    TraceStep, VpcStatus,
};
use vpc_config::{EniId, Protocol, RouteTableId, RouteTarget, VpcId};
use vpc_dataplane::DropReason;
use vpc_dataplane::trace::Probe;

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
                        link: match s.down_reason(id) {
                            None => "up".into(),
                            Some(why) => format!("down ({why})"),
                        },
                    }
                })
                .collect(),
        })
        .collect();
    Status {
        pid: std::process::id(),
        uptime_secs: s.uptime_secs(),
        config: s.config_name.clone(),
        vpcs,
        instances,
    }
}

pub fn routes(s: &Shared) -> Routes {
    let t = &s.topology;
    let dp = s.dataplane();
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
                routes: dp
                    .routes(id)
                    .map(|(r, state)| RouteReport {
                        destination: r.destination.to_string(),
                        target: match r.target {
                            RouteTarget::Local => "local".into(),
                            RouteTarget::Eni(e) => t.eni_name(e).to_string(),
                        },
                        state: state.name().into(),
                    })
                    .collect(),
            }
        })
        .collect();
    Routes { tables }
}

pub fn counters(s: &Shared) -> CountersReport {
    let t = &s.topology;
    let c = s.dataplane().counters().clone();
    let enis = t
        .eni_ids()
        .map(|id| {
            let e = c.eni(id);
            EniCountersReport {
                name: t.eni_name(id).to_string(),
                rx_packets: e.rx_packets,
                rx_bytes: e.rx_bytes,
                tx_packets: e.tx_packets,
                tx_bytes: e.tx_bytes,
                tx_errors: s.tx_errors(id),
                drops: DropReason::ALL
                    .iter()
                    .filter(|r| e.dropped(**r) > 0)
                    .map(|r| (r.name().to_owned(), e.dropped(*r)))
                    .collect(),
            }
        })
        .collect();
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
    ]);
    CountersReport {
        enis,
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
                evicted: stats.evicted,
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
    let eni = t.find_eni(from).ok_or_else(|| {
        format!("--from {from:?} is neither an instance nor a network interface (instance/ethN)")
    })?;
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
    let walked = s.dataplane().trace(now, eni, dst, probe);
    let described = vpc_dataplane::trace::describe(t, &walked);
    Ok(TraceReport {
        probe: format!(
            "{} {} -> {dst} {}",
            t.eni_name(eni),
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
