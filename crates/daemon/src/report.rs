//! Answers to control requests, built from the topology and the dataplane's state.

use std::collections::BTreeMap;

use vpc_api::{
    CountersReport, DropCount, EniCountersReport, EniStatus, InstanceStatus, RouteReport,
    RouteTableReport, Routes, Status, SubnetStatus, VpcStatus,
};
use vpc_config::{RouteTableId, RouteTarget, VpcId};
use vpc_dataplane::DropReason;

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
