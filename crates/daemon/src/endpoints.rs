//! `vpcctl describe-vpc-endpoints` and `describe-prefix-lists`: gateway VPC endpoints
//! with their metrics (packets and bytes out and in, drops, active flows) and the
//! emulated services' managed prefix lists (docs/endpoints.md).

use vpc_api::{PrefixListReport, PrefixListsReport, VpcEndpointReport, VpcEndpointsReport};
use vpc_config::VpcEndpointId;
use vpc_ec2::ids::{self, Kind};

use crate::state::Shared;

/// Every gateway endpoint, with its metrics now.
pub fn vpc_endpoints(s: &Shared) -> VpcEndpointsReport {
    let now = s.now();
    let dp = s.snapshot();
    let t = dp.topology();
    let vpc_endpoints = t
        .vpc_endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let m = dp.endpoint_metrics(VpcEndpointId(i as u32), now);
            let service = t.aws_service(e.service).service_name();
            VpcEndpointReport {
                name: e.name.clone(),
                id: ids::id(Kind::VpcEndpoint, &e.name),
                vpc: t.vpc(e.vpc).name.clone(),
                vpc_endpoint_type: "Gateway".into(),
                prefix_list_id: vpc_config::prefix_list_id(&service),
                service_name: service,
                route_tables: e
                    .route_tables
                    .iter()
                    .map(|&r| t.route_table(r).name.clone())
                    .collect(),
                state: "available".into(),
                packets_out: m.packets_out,
                bytes_out: m.bytes_out,
                packets_in: m.packets_in,
                bytes_in: m.bytes_in,
                packets_drop: m.packets_drop,
                active_flows: m.active_flows,
            }
        })
        .collect();
    VpcEndpointsReport { vpc_endpoints }
}

/// Every emulated service's prefix list.
pub fn prefix_lists(s: &Shared) -> PrefixListsReport {
    let dp = s.snapshot();
    let t = dp.topology();
    PrefixListsReport {
        prefix_lists: t
            .aws_services
            .iter()
            .map(|svc| {
                let name = svc.service_name();
                PrefixListReport {
                    id: vpc_config::prefix_list_id(&name),
                    name,
                    cidrs: svc.cidrs.iter().map(ToString::to_string).collect(),
                }
            })
            .collect(),
    }
}
