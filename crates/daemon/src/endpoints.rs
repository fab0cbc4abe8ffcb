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

#[cfg(test)]
mod tests {
    use vpc_config::EniId;
    use vpc_dataplane::{PacketBuf, Port, Verdict};

    use super::*;
    use crate::report::tests::shared;

    /// A UDP datagram (no UDP checksum) from `src` port 5000 to `dst` port 53.
    fn udp(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 32, 0, 1, 0x40, 0, 64, 17, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        let sum: u32 = p
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        let c = !(((folded & 0xffff) + (folded >> 16)) as u16);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p.extend_from_slice(&[0x13, 0x88, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4]);
        p
    }

    #[test]
    fn the_demo_endpoint_and_prefix_list_are_reported_with_metrics() {
        let s = shared(vpc_config::DEMO_TOML);
        let r = vpc_endpoints(&s);
        assert_eq!(r.vpc_endpoints.len(), 1);
        let e = &r.vpc_endpoints[0];
        assert_eq!(
            (e.name.as_str(), e.vpc.as_str(), e.service_name.as_str()),
            ("s3-endpoint", "demo", "com.amazonaws.local-1.s3")
        );
        assert_eq!(e.route_tables, ["private-a-rt"]);
        assert_eq!(e.id, ids::id(Kind::VpcEndpoint, "s3-endpoint"));
        assert_eq!(e.prefix_list_id, ids::id(Kind::PrefixList, &e.service_name));
        assert_eq!((e.packets_out, e.active_flows), (0, 0));

        let snap = s.snapshot();
        let mut counters = snap.new_counters();
        let mut pkt = PacketBuf::from_bytes(&udp([10, 0, 2, 10], [192, 0, 2, 80]));
        let v = snap.process(&mut counters, s.now(), Port::Eni(EniId(1)), &mut pkt);
        assert!(matches!(v, Verdict::Forward { to: Port::Host(_) }), "{v:?}");
        let e = &vpc_endpoints(&s).vpc_endpoints[0];
        assert_eq!((e.packets_out, e.bytes_out, e.active_flows), (1, 32, 1));

        let lists = prefix_lists(&s);
        assert_eq!(lists.prefix_lists.len(), 1);
        assert_eq!(lists.prefix_lists[0].cidrs, ["192.0.2.64/26"]);
    }
}
