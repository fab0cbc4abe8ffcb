//! Virtual private gateways through the whole pipeline, on `config/vpn.toml` (erp in
//! VPC corp, whose table routes 172.16.0.0/16 to vgw): what is routed into a gateway
//! with no VPN connection is dropped there (`vpn-no-connection`), counted on the
//! sending interface, and named in the trace; detached, the route is a blackhole.
//! With a tunnel up (what the daemon observes, `VpnLive`), the routes a connection
//! learned are propagated into the table, packets routed to the gateway go to its far
//! end (a port), and packets from there enter the VPC through the firewall.

use std::net::Ipv4Addr;

use vpc_config::{EniId, VpnGatewayId, VpnLive};

use super::{SYN, delta, drop, parse, send};
use crate::flowlog::TrafficPath;
use crate::pipeline::Dataplane;
use crate::testkit::{echo, tcp};
use crate::time::Time;
use crate::trace::{self, Probe};
use crate::verdict::{DropReason, Port, Verdict};

const VPN: &str = include_str!("../../../../config/vpn.toml");

/// config/vpn.toml with a static route to vgw (the example propagates only).
fn routed() -> String {
    VPN.replace(
        "propagating_vgws = [\"vgw\"]\n",
        "propagating_vgws = [\"vgw\"]\nroute = [{ destination = \"172.16.0.0/16\", vpn_gateway = \"vgw\" }]\n",
    )
}

const ERP: EniId = EniId(0);
const ERP_IP: [u8; 4] = [10, 20, 1, 10];
const HQ_HOST: [u8; 4] = [172, 16, 5, 5];
const T0: Time = Time::from_secs(1000);

#[test]
fn a_vpn_gateway_without_a_connection_drops_what_is_routed_to_it() {
    let t = parse(&routed());
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
    let mut t = parse(&routed());
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

#[test]
fn with_a_tunnel_up_learned_routes_carry_traffic_both_ways() {
    let mut t = parse(VPN);
    let mut dp = Dataplane::with_limits(&t, t.limits, T0);
    let far = t.vpn_gateway_host(VpnGatewayId(0)).unwrap();
    // Nothing learned yet: no route.
    let (v, _) = send(&mut dp, T0, ERP, &echo(ERP_IP, HQ_HOST, true, 1));
    assert_eq!(v, drop(DropReason::NoRoute));
    // vpn-hq's tunnel 2 up, 172.16.0.0/16 learned over BGP.
    let hq = t.find_vpn_connection("vpn-hq").unwrap();
    t.vpn_connections[hq.index()].live = VpnLive {
        up: [false, true],
        learned: vec!["172.16.0.0/16".parse().unwrap()],
    };
    dp.apply(&t, T0);
    let before = dp.counters().clone();
    let (v, _) = send(&mut dp, T0, ERP, &echo(ERP_IP, HQ_HOST, true, 7));
    assert_eq!(
        v,
        Verdict::Forward {
            to: Port::Host(far)
        }
    );
    // The answer comes out of the tunnel, into the VPC (tracked by erp's group).
    let (v, _) = send(&mut dp, T0, far, &echo(HQ_HOST, ERP_IP, false, 7));
    assert_eq!(v, Verdict::Forward { to: Port::Eni(ERP) });
    // A site's new connection: the group allows 172.16.0.0/12 in.
    let (v, _) = send(&mut dp, T0, far, &tcp(HQ_HOST, 5000, ERP_IP, 22, SYN, 1, 0));
    assert_eq!(v, Verdict::Forward { to: Port::Eni(ERP) });
    // Not an interface of the VPC: dropped at the gateway.
    let (v, _) = send(&mut dp, T0, far, &echo(HQ_HOST, [10, 20, 1, 99], true, 8));
    assert_eq!(v, drop(DropReason::VpnNoDestination));
    let (v, _) = send(&mut dp, T0, far, &echo(HQ_HOST, [10, 99, 0, 1], true, 9));
    assert_eq!(v, drop(DropReason::VpnNoDestination));
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "erp/eth0 rx_packets +1",
            "erp/eth0 rx_bytes +32",
            "erp/eth0 tx_packets +2",
            "erp/eth0 tx_bytes +72",
        ]
    );
    // The far end's port counts what it sent and got, and the drops of its packets.
    let (b, a) = (before.host(far), dp.counters().host(far));
    let r = DropReason::VpnNoDestination.index();
    assert_eq!(
        (
            a.rx_packets - b.rx_packets,
            a.tx_packets - b.tx_packets,
            a.drops[r] - b.drops[r]
        ),
        (4, 1, 2)
    );
    let walked = dp.trace(T0, ERP, Ipv4Addr::from(HQ_HOST), Probe::Tcp(443));
    let text = trace::describe(&t, &walked);
    assert_eq!(text.verdict, "FORWARD to vpcd+gw-vgw", "{:?}", text.steps);
    assert!(
        text.steps[0].1.contains("172.16.0.0/16"),
        "{:?}",
        text.steps
    );
    // Both tunnels down: the routes are withdrawn.
    t.vpn_connections[hq.index()].live.up = [false, false];
    dp.apply(&t, T0);
    let (v, _) = send(&mut dp, T0, ERP, &echo(ERP_IP, HQ_HOST, true, 9));
    assert_eq!(v, drop(DropReason::NoRoute));
}
