//! Virtual private gateways through the whole pipeline, on `config/vpn.toml` (erp in
//! VPC corp, whose table routes 172.16.0.0/16 to vgw): what is routed into a gateway
//! with no VPN connection is dropped there (`vpn-no-connection`), counted on the
//! sending interface, and named in the trace; detached, the route is a blackhole.

use std::net::Ipv4Addr;

use vpc_config::EniId;

use super::{SYN, delta, drop, parse, send};
use crate::flowlog::TrafficPath;
use crate::pipeline::Dataplane;
use crate::testkit::{echo, tcp};
use crate::time::Time;
use crate::trace::{self, Probe};
use crate::verdict::DropReason;

const VPN: &str = include_str!("../../../../config/vpn.toml");

const ERP: EniId = EniId(0);
const ERP_IP: [u8; 4] = [10, 20, 1, 10];
const HQ_HOST: [u8; 4] = [172, 16, 5, 5];
const T0: Time = Time::from_secs(1000);

#[test]
fn a_vpn_gateway_without_a_connection_drops_what_is_routed_to_it() {
    let t = parse(VPN);
    let mut dp = Dataplane::with_limits(&t, t.limits, T0);
    let before = dp.counters().clone();
    let (v, _) = send(&mut dp, T0, ERP, &echo(ERP_IP, HQ_HOST, true, 1));
    assert_eq!(v, drop(DropReason::VpnNoConnection));
    let (v, _) = send(
        &mut dp,
        T0,
        ERP,
        &tcp(ERP_IP, 40000, HQ_HOST, 443, SYN, 1, 0),
    );
    assert_eq!(v, drop(DropReason::VpnNoConnection));
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "erp/eth0 rx_packets +2",
            "erp/eth0 rx_bytes +72",
            "erp/eth0 drop vpn-no-connection +2",
        ]
    );
    let walked = dp.trace(T0, ERP, Ipv4Addr::from(HQ_HOST), Probe::Tcp(443));
    let text = trace::describe(&t, &walked);
    let stages: Vec<&str> = text.steps.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        stages,
        [
            "route",
            "sg egress erp/eth0",
            "nacl outbound app",
            "vpn-gateway vgw"
        ]
    );
    assert_eq!(
        text.steps[3].1,
        "to 172.16.5.5 over a VPN connection (vpn gateway vgw, amazon side ASN 64512, attached to vpc corp)"
    );
    assert_eq!(text.verdict, "DROP vpn-no-connection");
    assert_eq!(
        text.because,
        "vpn gateway vgw has no VPN connection with a tunnel up, so it drops what it receives"
    );
    assert_eq!(TrafficPath::VirtualPrivateGateway.code(), 3);
}

#[test]
fn a_route_to_a_detached_vpn_gateway_is_a_blackhole() {
    let mut t = parse(VPN);
    let mut dp = Dataplane::with_limits(&t, t.limits, T0);
    t.detach_vpn_gateway("vgw", "corp").unwrap();
    dp.apply(&t, T0);
    let before = dp.counters().clone();
    let (v, _) = send(&mut dp, T0, ERP, &echo(ERP_IP, HQ_HOST, true, 1));
    assert_eq!(v, drop(DropReason::RouteBlackhole));
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "erp/eth0 rx_packets +1",
            "erp/eth0 rx_bytes +32",
            "erp/eth0 drop route-blackhole +1",
        ]
    );
}
