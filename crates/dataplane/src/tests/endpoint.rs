//! Gateway VPC endpoints through the whole pipeline, on the demo (docs/endpoints.md):
//! app (private-a, whose table routes s3's prefix list to the endpoint) reaches the s3
//! host with its private address and gets the answer back; db (private-b, no endpoint
//! route) reaches it through nat-b; answers of no learned flow, traffic from a peered
//! VPC and traffic relayed from outside the VPC do not use the endpoint; route ranking
//! against static routes; a trace shows the endpoint and changes nothing; flows expire.

use std::net::Ipv4Addr;

use vpc_config::{EniId, HostId, Topology, VpcEndpointId};

use super::{ACK, SYN, SYN_ACK, addr, assert_checksums, be16, delta, drop, parse, send, to_eni};
use crate::pipeline::Dataplane;
use crate::testkit::{echo, tcp, udp};
use crate::time::Time;
use crate::trace::{self, Probe};
use crate::verdict::{DropReason, Port, Verdict};

const APP: EniId = EniId(1);
const DB: EniId = EniId(2);
const S3: HostId = HostId(1);
const EP: VpcEndpointId = VpcEndpointId(0);

const APP_IP: [u8; 4] = [10, 0, 2, 10];
const DB_IP: [u8; 4] = [10, 0, 12, 10];
const NAT_B_EIP: [u8; 4] = [198, 51, 100, 21];
const S3_IP: [u8; 4] = [192, 0, 2, 80];
const T0: Time = Time::from_secs(1000);

fn to_s3() -> Verdict {
    Verdict::Forward { to: Port::Host(S3) }
}

fn demo_with(extra: &str) -> (Topology, Dataplane) {
    let t = parse(&format!("{}{extra}", vpc_config::DEMO_TOML));
    let dp = Dataplane::new(&t);
    (t, dp)
}

#[test]
fn app_reaches_s3_with_its_private_address_and_the_answer_comes_back() {
    let (t, mut dp) = demo_with("");
    assert_eq!(t.internet_host(S3).name, "s3");
    let before = dp.counters().clone();
    let syn = tcp(APP_IP, 40000, S3_IP, 80, SYN, 1000, 0);
    let (v, out) = send(&mut dp, T0, APP, &syn);
    assert_eq!(v, to_s3());
    assert_eq!(out, syn, "nothing is translated: the same bytes reach s3");
    assert_eq!(addr(&out, 12), APP_IP);

    let syn_ack = tcp(S3_IP, 80, APP_IP, 40000, SYN_ACK, 5000, 1001);
    let (v, back) = send(&mut dp, T0, S3, &syn_ack);
    assert_eq!(v, to_eni(APP));
    assert_eq!(back, syn_ack);
    let ack = tcp(APP_IP, 40000, S3_IP, 80, ACK, 1001, 5001);
    assert_eq!(send(&mut dp, T0, APP, &ack).0, to_s3());

    let after = dp.counters();
    assert_eq!(
        delta(&t, &before, after),
        [
            "app/eth0 rx_packets +2",
            "app/eth0 rx_bytes +80",
            "app/eth0 tx_packets +1",
            "app/eth0 tx_bytes +40",
        ]
    );
    let (h0, h1) = (before.host(S3), after.host(S3));
    assert_eq!(
        (h1.rx_packets - h0.rx_packets, h1.tx_packets - h0.tx_packets),
        (1, 2)
    );
    assert_eq!(h1.tx_bytes - h0.tx_bytes, 80);
    // Neither NAT gateway saw anything.
    for n in 0..2 {
        let m = dp.nat_metrics(vpc_config::NatGatewayId(n));
        assert_eq!(m.packets_in_from_source + m.packets_in_from_destination, 0);
    }
    let m = dp.endpoint_metrics(EP, T0);
    assert_eq!(
        (m.packets_out, m.bytes_out, m.packets_in, m.bytes_in),
        (2, 80, 1, 40)
    );
    assert_eq!((m.packets_drop, m.active_flows), (0, 1));
    assert_checksums(&back);
}

#[test]
fn db_reaches_s3_through_its_nat_gateway() {
    let (t, mut dp) = demo_with("");
    let before = dp.counters().clone();
    let (v, out) = send(&mut dp, T0, DB, &udp(DB_IP, 5000, S3_IP, 443));
    assert_eq!(v, to_s3());
    assert_checksums(&out);
    assert_eq!(addr(&out, 12), NAT_B_EIP, "s3 sees nat-b's Elastic IP");
    let port = be16(&out, 20);
    let (v, back) = send(&mut dp, T0, S3, &udp(S3_IP, 443, NAT_B_EIP, port));
    assert_eq!(v, to_eni(DB));
    assert_eq!((addr(&back, 16), be16(&back, 22)), (DB_IP, 5000));
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "db/eth0 rx_packets +1",
            "db/eth0 rx_bytes +32",
            "db/eth0 tx_packets +1",
            "db/eth0 tx_bytes +32",
        ]
    );
    let m = dp.endpoint_metrics(EP, T0);
    assert_eq!((m.packets_out, m.packets_in, m.active_flows), (0, 0, 0));
    assert_eq!(
        dp.nat_metrics(vpc_config::NatGatewayId(1))
            .packets_out_to_destination,
        1
    );
}

#[test]
fn an_answer_of_no_learned_flow_is_dropped_and_flows_expire() {
    let (t, mut dp) = demo_with("");
    let before = dp.counters().clone();
    // s3 cannot open a connection to app, nor answer a port app did not use.
    let (v, _) = send(&mut dp, T0, S3, &tcp(S3_IP, 80, APP_IP, 40000, SYN, 1, 0));
    assert_eq!(v, drop(DropReason::EndpointNoFlow));
    assert_eq!(
        send(&mut dp, T0, APP, &tcp(APP_IP, 5000, S3_IP, 80, SYN, 1, 0)).0,
        to_s3()
    );
    let (v, _) = send(
        &mut dp,
        T0,
        S3,
        &tcp(S3_IP, 80, APP_IP, 5001, SYN_ACK, 7, 2),
    );
    assert_eq!(v, drop(DropReason::EndpointNoFlow));
    let syn_ack = tcp(S3_IP, 80, APP_IP, 5000, SYN_ACK, 7, 2);
    assert_eq!(send(&mut dp, T0, S3, &syn_ack).0, to_eni(APP));
    let ack = tcp(APP_IP, 5000, S3_IP, 80, ACK, 2, 8);
    assert_eq!(send(&mut dp, T0, APP, &ack).0, to_s3());
    // The learned flow answers until it has been idle for 350 s (app's connection,
    // established, lives for days).
    let t1 = Time::from_secs(1349);
    let data = tcp(S3_IP, 80, APP_IP, 5000, ACK, 8, 2);
    assert_eq!(send(&mut dp, t1, S3, &data).0, to_eni(APP));
    let t2 = Time::from_secs(1349 + 350);
    assert_eq!(dp.expire(t2), 1, "the endpoint's flow only");
    let (v, _) = send(&mut dp, t2, S3, &data);
    assert_eq!(v, drop(DropReason::EndpointNoFlow));
    // Another host of the internet sending to a private address is no endpoint's.
    let (v, _) = send(
        &mut dp,
        T0,
        HostId(0),
        &tcp([203, 0, 113, 10], 80, APP_IP, 40000, SYN, 1, 0),
    );
    assert_eq!(v, drop(DropReason::InternetNoRoute));
    let after = dp.counters();
    assert_eq!(
        after.dropped(DropReason::EndpointNoFlow) - before.dropped(DropReason::EndpointNoFlow),
        3
    );
    assert_eq!(
        delta(&t, &before, after),
        [
            "app/eth0 rx_packets +2",
            "app/eth0 rx_bytes +80",
            "app/eth0 tx_packets +2",
            "app/eth0 tx_bytes +80",
        ]
    );
    assert_eq!(dp.endpoint_metrics(EP, t2).active_flows, 0);
}

#[test]
fn echo_goes_through_the_endpoint_too() {
    let (_, mut dp) = demo_with("");
    // app-sg allows icmp in from the VPC only: the reply passes as a tracked flow.
    assert_eq!(
        send(&mut dp, T0, APP, &echo(APP_IP, S3_IP, true, 9)).0,
        to_s3()
    );
    let (v, _) = send(&mut dp, T0, S3, &echo(S3_IP, APP_IP, false, 9));
    assert_eq!(v, to_eni(APP));
    let (v, _) = send(&mut dp, T0, S3, &echo(S3_IP, APP_IP, false, 10));
    assert_eq!(v, drop(DropReason::EndpointNoFlow));
}

/// A second VPC peered with demo; its table sends s3's block and demo's block over the
/// connection.
const PEER: &str = r#"
[[vpc]]
name = "peer"
cidr = "10.1.0.0/16"
region = "local-1"

[[subnet]]
name = "peer-a"
vpc = "peer"
cidr = "10.1.1.0/24"
az = "a"

[[instance]]
name = "p"
subnet = "peer-a"
private_ip = "10.1.1.10"

[[vpc_peering_connection]]
name = "demo-peer"
vpc = "peer"
peer_vpc = "demo"

[[route_table]]
name = "peer-rt"
vpc = "peer"
subnets = ["peer-a"]
route = [
  { destination = "10.0.0.0/16", vpc_peering_connection = "demo-peer" },
  { destination = "192.0.2.64/26", vpc_peering_connection = "demo-peer" },
]

[[instance]]
name = "relay"
subnet = "private-a"
private_ip = "10.0.2.20"
source_dest_check = false
"#;

#[test]
fn a_peered_vpc_or_a_relay_does_not_use_the_endpoint() {
    let (t, mut dp) = demo_with(PEER);
    let p = t.find_eni("p").unwrap();
    let relay = t.find_eni("relay").unwrap();
    let before = dp.counters().clone();
    let (v, _) = send(
        &mut dp,
        T0,
        p,
        &tcp([10, 1, 1, 10], 40000, S3_IP, 80, SYN, 1, 0),
    );
    assert_eq!(v, drop(DropReason::PeeringEdgeToEdge));
    // An appliance in private-a sending on a packet from the peer VPC (its own check
    // off): the endpoint refuses what is not from its VPC.
    let relayed = tcp([10, 1, 1, 10], 40001, S3_IP, 80, SYN, 1, 0);
    let (v, _) = send(&mut dp, T0, relay, &relayed);
    assert_eq!(v, drop(DropReason::EndpointEdgeToEdge));
    let after = dp.counters();
    assert_eq!(
        delta(&t, &before, after),
        [
            "p/eth0 rx_packets +1",
            "p/eth0 rx_bytes +40",
            "p/eth0 drop peering-edge-to-edge +1",
            "relay/eth0 rx_packets +1",
            "relay/eth0 rx_bytes +40",
            "relay/eth0 drop endpoint-edge-to-edge +1",
        ]
    );
    assert_eq!(after.host(S3).tx_packets, 0);
    let m = dp.endpoint_metrics(EP, T0);
    assert_eq!((m.packets_out, m.packets_drop, m.active_flows), (0, 1, 0));
    // The relay's own traffic uses it.
    let own = tcp([10, 0, 2, 20], 40002, S3_IP, 80, SYN, 1, 0);
    assert_eq!(send(&mut dp, T0, relay, &own).0, to_s3());
}

#[test]
fn overlapping_vpcs_with_endpoints_to_s3_get_their_own_answers() {
    // A second VPC with demo's block, its own endpoint, and an instance at app's
    // address.
    let twin = r#"
[[vpc]]
name = "twin"
cidr = "10.0.0.0/16"
region = "local-1"

[[subnet]]
name = "twin-a"
vpc = "twin"
cidr = "10.0.2.0/24"
az = "a"

[[instance]]
name = "twin-app"
subnet = "twin-a"
private_ip = "10.0.2.10"

[[route_table]]
name = "twin-rt"
vpc = "twin"
subnets = ["twin-a"]

[[vpc_endpoint]]
name = "twin-s3"
vpc = "twin"
service_name = "com.amazonaws.local-1.s3"
route_tables = ["twin-rt"]
"#;
    let (t, mut dp) = demo_with(twin);
    let twin_app = t.find_eni("twin-app").unwrap();
    assert_eq!(
        send(&mut dp, T0, APP, &udp(APP_IP, 5000, S3_IP, 53)).0,
        to_s3()
    );
    assert_eq!(
        send(&mut dp, T0, twin_app, &udp(APP_IP, 5001, S3_IP, 53)).0,
        to_s3()
    );
    // The same 5-tuple from the twin while app's flow lives: refused.
    let (v, _) = send(&mut dp, T0, twin_app, &udp(APP_IP, 5000, S3_IP, 53));
    assert_eq!(v, drop(DropReason::EndpointFlowConflict));
    let (v, _) = send(&mut dp, T0, S3, &udp(S3_IP, 53, APP_IP, 5000));
    assert_eq!(v, to_eni(APP));
    let (v, _) = send(&mut dp, T0, S3, &udp(S3_IP, 53, APP_IP, 5001));
    assert_eq!(v, to_eni(twin_app));
    assert_eq!(dp.endpoint_metrics(VpcEndpointId(1), T0).active_flows, 1);
}

#[test]
fn a_static_route_beats_the_prefix_list_at_an_equal_prefix_a_longer_prefix_wins() {
    let with_route = |route: &str| {
        vpc_config::DEMO_TOML.replace(
            "route = [{ destination = \"0.0.0.0/0\", nat_gateway = \"nat-a\" }]",
            &format!(
                "route = [{{ destination = \"0.0.0.0/0\", nat_gateway = \"nat-a\" }}, {route}]"
            ),
        )
    };
    let nat_a_eip = [198, 51, 100, 20];
    for (route, via_nat) in [
        // Equal prefix: the static route wins.
        (
            "{ destination = \"192.0.2.64/26\", nat_gateway = \"nat-a\" }",
            true,
        ),
        // More specific: the static route wins for its block only.
        (
            "{ destination = \"192.0.2.80/32\", nat_gateway = \"nat-a\" }",
            true,
        ),
        // Less specific: the prefix list's block wins.
        (
            "{ destination = \"192.0.2.0/24\", nat_gateway = \"nat-a\" }",
            false,
        ),
    ] {
        let t = parse(&with_route(route));
        let mut dp = Dataplane::new(&t);
        let (v, out) = send(&mut dp, T0, APP, &udp(APP_IP, 5000, S3_IP, 53));
        assert_eq!(v, to_s3(), "{route}");
        let seen = if via_nat { nat_a_eip } else { APP_IP };
        assert_eq!(addr(&out, 12), seen, "{route}");
    }
    // The routes as the dataplane holds them: the endpoint's, origin PrefixList.
    let t = Topology::demo();
    let dp = Dataplane::new(&t);
    let table = t
        .route_tables
        .iter()
        .position(|r| r.name == "private-a-rt")
        .unwrap();
    let routes: Vec<String> = dp
        .routes(vpc_config::RouteTableId(table as u32))
        .map(|(r, s)| {
            format!(
                "{} {} {:?} {}",
                r.destination,
                t.route_target_name(r.target),
                r.origin,
                s.name()
            )
        })
        .collect();
    assert_eq!(
        routes,
        [
            "0.0.0.0/0 nat-a Static active",
            "10.0.0.0/16 local Local active",
            "192.0.2.64/26 s3-endpoint PrefixList active",
        ]
    );
}

#[test]
fn trace_shows_the_endpoint_and_changes_nothing() {
    let t = Topology::demo();
    let dp = Dataplane::new(&t);
    let walked = dp.trace(T0, APP, Ipv4Addr::from(S3_IP), Probe::Tcp(443));
    assert_eq!(walked.verdict, to_s3());
    let d = trace::describe(&t, &walked);
    let step = d
        .steps
        .iter()
        .find(|(s, _)| s == "vpc-endpoint s3-endpoint")
        .unwrap_or_else(|| panic!("{:?}", d.steps));
    assert_eq!(
        step.1,
        "to com.amazonaws.local-1.s3 at 192.0.2.80, source 10.0.2.10 kept (no translation)"
    );
    let m = dp.endpoint_metrics(EP, T0);
    assert_eq!((m.packets_out, m.active_flows), (0, 0));
    assert_eq!(dp.counters().host(S3).tx_packets, 0);
}

/// `config/endpoints.toml`: app-sg allows tcp 443 out only to s3's and dynamodb's
/// prefix lists.
#[test]
fn a_security_group_rule_naming_a_prefix_list_matches_its_blocks() {
    let t = parse(include_str!("../../../../config/endpoints.toml"));
    let mut dp = Dataplane::new(&t);
    let app = t.find_eni("app").unwrap();
    let (s3, dynamodb) = (HostId(0), HostId(1));
    let app_ip = [10, 0, 2, 10];
    let before = dp.counters().clone();
    let (v, out) = send(&mut dp, T0, app, &tcp(app_ip, 40000, S3_IP, 443, SYN, 1, 0));
    assert_eq!(v, Verdict::Forward { to: Port::Host(s3) });
    assert_eq!(addr(&out, 12), app_ip);
    let ddb_ip = [198, 51, 100, 80];
    let (v, _) = send(
        &mut dp,
        T0,
        app,
        &tcp(app_ip, 40001, ddb_ip, 443, SYN, 1, 0),
    );
    assert_eq!(
        v,
        Verdict::Forward {
            to: Port::Host(dynamodb)
        }
    );
    // Another port: no rule allows it (and outside the lists there is no route).
    let (v, _) = send(&mut dp, T0, app, &tcp(app_ip, 40002, S3_IP, 80, SYN, 1, 0));
    assert_eq!(v, drop(DropReason::SgEgress));
    let (v, _) = send(
        &mut dp,
        T0,
        app,
        &tcp(app_ip, 40003, [203, 0, 113, 9], 443, SYN, 1, 0),
    );
    assert_eq!(v, drop(DropReason::NoRoute));
    // The answers come back through the endpoint each flow left by.
    let (v, _) = send(
        &mut dp,
        T0,
        dynamodb,
        &tcp(ddb_ip, 443, app_ip, 40001, SYN_ACK, 9, 2),
    );
    assert_eq!(v, to_eni(app));
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "app/eth0 rx_packets +4",
            "app/eth0 rx_bytes +160",
            "app/eth0 tx_packets +1",
            "app/eth0 tx_bytes +40",
            "app/eth0 drop no-route +1",
            "app/eth0 drop sg-egress +1",
        ]
    );
    let walked = dp.trace(T0, app, Ipv4Addr::from(S3_IP), Probe::Tcp(443));
    let d = trace::describe(&t, &walked);
    let sg = d
        .steps
        .iter()
        .find(|(s, _)| s == "sg egress app/eth0")
        .unwrap();
    assert!(
        sg.1.contains("to prefix list com.amazonaws.us-east-1.s3"),
        "{}",
        sg.1
    );
}

/// A spoke VPC attached with demo to a transit gateway that routes s3's block to
/// demo's attachment (in private-a, whose table routes it to the endpoint).
const SPOKE: &str = r#"
[[transit_gateway]]
name = "tgw"
region = "local-1"
default_route_table_association = "disable"
default_route_table_propagation = "disable"

[[transit_gateway_vpc_attachment]]
name = "att-demo"
transit_gateway = "tgw"
vpc = "demo"
subnets = ["private-a"]

[[vpc]]
name = "spoke"
cidr = "10.20.0.0/16"
region = "local-1"

[[subnet]]
name = "spoke-1"
vpc = "spoke"
cidr = "10.20.1.0/24"
az = "a"

[[route_table]]
name = "spoke-rt"
vpc = "spoke"
subnets = ["spoke-1"]
route = [{ destination = "192.0.2.64/26", transit_gateway = "tgw" }]

[[instance]]
name = "sp"
subnet = "spoke-1"
private_ip = "10.20.1.10"

[[transit_gateway_vpc_attachment]]
name = "att-spoke"
transit_gateway = "tgw"
vpc = "spoke"
subnets = ["spoke-1"]

[[transit_gateway_route_table]]
name = "tgw-rt"
transit_gateway = "tgw"
associations = ["att-demo", "att-spoke"]
route = [{ destination = "192.0.2.64/26", transit_gateway_attachment = "att-demo" }]
"#;

#[test]
fn traffic_arriving_through_a_transit_gateway_does_not_use_the_endpoint() {
    let (t, mut dp) = demo_with(SPOKE);
    let sp = t.find_eni("sp").unwrap();
    let before = dp.counters().clone();
    let (v, _) = send(&mut dp, T0, sp, &udp([10, 20, 1, 10], 5000, S3_IP, 53));
    assert_eq!(v, drop(DropReason::EndpointEdgeToEdge));
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "sp/eth0 rx_packets +1",
            "sp/eth0 rx_bytes +32",
            "sp/eth0 drop endpoint-edge-to-edge +1",
        ]
    );
    assert_eq!(dp.counters().host(S3).tx_packets, 0);
    assert_eq!(dp.endpoint_metrics(EP, T0).packets_drop, 1);
}

#[test]
fn flow_logs_say_the_path_was_a_gateway_endpoint() {
    use crate::direction::Direction;
    use crate::flowlog::{LogStatus, TrafficPath};
    let (_, mut dp) = demo_with("");
    let _ = send(&mut dp, T0, APP, &udp(APP_IP, 5000, S3_IP, 53));
    let _ = send(&mut dp, T0, S3, &udp(S3_IP, 53, APP_IP, 5000));
    let mut out = Vec::new();
    dp.flush_all_flow_logs(T0 + std::time::Duration::from_secs(1), &mut out);
    let ok: Vec<_> = out
        .iter()
        .filter(|r| r.status == LogStatus::Ok)
        .map(|r| (r.direction, r.traffic_path, r.packets))
        .collect();
    assert_eq!(
        ok,
        [
            (Direction::Egress, Some(TrafficPath::GatewayEndpoint), 1),
            (Direction::Ingress, None, 1),
        ]
    );
    assert_eq!(TrafficPath::GatewayEndpoint.code(), 7);
}

#[test]
fn an_endpoint_keeps_its_flows_across_a_change_and_loses_them_when_deleted() {
    let (_, mut dp) = demo_with("");
    assert_eq!(
        send(&mut dp, T0, APP, &udp(APP_IP, 5000, S3_IP, 53)).0,
        to_s3()
    );
    // The endpoint changes (a second route table, a second endpoint before it): its
    // flow and metrics follow it by name.
    let changed = parse(&format!(
        "{}\n[[aws_service]]\nname = \"dynamodb\"\nregion = \"local-1\"\ncidrs = [\"203.0.113.128/26\"]\n\n\
         [[vpc_endpoint]]\nname = \"ddb\"\nvpc = \"demo\"\nservice_name = \"com.amazonaws.local-1.dynamodb\"\n",
        vpc_config::DEMO_TOML.replace(
            "route_tables = [\"private-a-rt\"]",
            "route_tables = [\"private-a-rt\", \"private-b-rt\"]"
        )
    ));
    assert_eq!(changed.vpc_endpoints[0].name, "s3-endpoint");
    dp.apply(&changed, T0);
    let (v, _) = send(&mut dp, T0, S3, &udp(S3_IP, 53, APP_IP, 5000));
    assert_eq!(v, to_eni(APP));
    let m = dp.endpoint_metrics(EP, T0);
    assert_eq!((m.packets_out, m.packets_in, m.active_flows), (1, 1, 1));
    assert_eq!(dp.endpoint_metrics(VpcEndpointId(1), T0).active_flows, 0);
    // Deleted: its route and flows go; s3's answer has no flow, app's next packet goes
    // through nat-a.
    let mut gone = changed.clone();
    gone.delete_vpc_endpoints(&["s3-endpoint".into()]).unwrap();
    dp.apply(&gone, T0);
    let (v, _) = send(&mut dp, T0, S3, &udp(S3_IP, 53, APP_IP, 5000));
    assert_eq!(v, drop(DropReason::EndpointNoFlow));
    let (v, out) = send(&mut dp, T0, APP, &udp(APP_IP, 5000, S3_IP, 53));
    assert_eq!(v, to_s3());
    assert_eq!(addr(&out, 12), [198, 51, 100, 20], "through nat-a");
}
