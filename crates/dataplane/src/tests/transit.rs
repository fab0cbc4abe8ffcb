//! Transit gateways through the whole pipeline, on `config/hub-and-spoke.toml` and
//! small topologies: route tables (association, propagation, static over propagated,
//! blackholes), runtime changes, MTU 8500, the attachment subnet's network ACL, flows
//! always tracked, AZ affinity and appliance mode, gateway peering, metrics and trace.

use std::net::Ipv4Addr;

use vpc_config::{EniId, Topology, TransitGatewayId};

use super::{SYN, SYN_ACK, big_udp, delta, drop, parse, send, to_eni};
use crate::packet::PacketBuf;
use crate::pipeline::Dataplane;
use crate::testkit::{echo, tcp};
use crate::time::Time;
use crate::trace::{self, Probe};
use crate::verdict::{DropReason, Port, Reply, Verdict};

const HUB: &str = include_str!("../../../../config/hub-and-spoke.toml");

const SVC: EniId = EniId(0);
const S1: EniId = EniId(1);
const S2: EniId = EniId(2);
const ISO: EniId = EniId(3);
const SVC_IP: [u8; 4] = [10, 10, 1, 10];
const S1_IP: [u8; 4] = [10, 11, 1, 10];
const S2_IP: [u8; 4] = [10, 12, 1, 10];
const ISO_IP: [u8; 4] = [10, 13, 1, 10];
const TGW: TransitGatewayId = TransitGatewayId(0);
const T0: Time = Time::from_secs(1000);

fn hub(edit: impl Fn(&str) -> String) -> (Topology, Dataplane) {
    let t = parse(&edit(HUB));
    let dp = Dataplane::with_limits(&t, t.limits, T0);
    (t, dp)
}

fn table(t: &Topology, name: &str) -> usize {
    t.tgw_route_tables
        .iter()
        .position(|r| r.name == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

fn attachment(t: &Topology, name: &str) -> vpc_config::TgwAttachmentId {
    let i = t
        .tgw_attachments
        .iter()
        .position(|a| a.name == name)
        .unwrap();
    vpc_config::TgwAttachmentId(i as u32)
}

#[test]
fn spokes_reach_the_shared_services_and_not_each_other() {
    let (t, mut dp) = hub(str::to_owned);
    for (from, to, src, dst) in [
        (S1, SVC, S1_IP, SVC_IP),
        (S2, SVC, S2_IP, SVC_IP),
        (SVC, S1, SVC_IP, S1_IP),
        (SVC, S2, SVC_IP, S2_IP),
    ] {
        let ping = echo(src, dst, true, 3);
        let (v, out) = send(&mut dp, T0, from, &ping);
        assert_eq!(v, to_eni(to), "{src:?} -> {dst:?}");
        assert_eq!(out, ping, "nothing is translated");
    }
    let before = dp.counters().clone();
    let (v, _) = send(&mut dp, T0, S1, &echo(S1_IP, S2_IP, true, 3));
    assert_eq!(v, drop(DropReason::TgwNoRoute));
    let (v, _) = send(&mut dp, T0, ISO, &echo(ISO_IP, SVC_IP, true, 3));
    assert_eq!(v, drop(DropReason::TgwNoRoute));
    let (v, _) = send(&mut dp, T0, SVC, &echo(SVC_IP, ISO_IP, true, 3));
    assert_eq!(v, drop(DropReason::TgwNoRoute));
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "svc/eth0 rx_packets +1",
            "svc/eth0 rx_bytes +32",
            "svc/eth0 drop tgw-no-route +1",
            "s1/eth0 rx_packets +1",
            "s1/eth0 rx_bytes +32",
            "s1/eth0 drop tgw-no-route +1",
            "iso/eth0 rx_packets +1",
            "iso/eth0 rx_bytes +32",
            "iso/eth0 drop tgw-no-route +1",
        ]
    );
    let m = dp.tgw_metrics(TGW);
    assert_eq!((m.packets_in, m.packets_out), (7, 4));
    assert_eq!(m.packet_drop_count_no_route, 3);
    assert_eq!(m.bytes_in, 7 * 32);

    let text = trace::describe(&t, &dp.trace(T0, S1, Ipv4Addr::from(S2_IP), Probe::Icmp));
    let stages: Vec<&str> = text.steps.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        stages,
        [
            "route",
            "sg egress s1/eth0",
            "nacl",
            "transit-gateway tgw",
            "transit-gateway tgw"
        ]
    );
    assert_eq!(
        text.steps[2].1,
        "not evaluated: source and destination are both in subnet spoke1-1"
    );
    assert_eq!(
        text.steps[3].1,
        "in through attachment att-s1 (subnet spoke1-1, 10.11.1.4)"
    );
    assert_eq!(text.steps[4].1, "route table spokes-rt: no route");
    assert_eq!(
        text.because,
        "route table spokes-rt of transit gateway tgw (associated with att-s1) has no route to the destination"
    );
    let text = trace::describe(
        &t,
        &dp.trace(T0, S1, Ipv4Addr::from(SVC_IP), Probe::Tcp(80)),
    );
    let steps: Vec<String> = text
        .steps
        .iter()
        .map(|(s, d)| format!("{s}: {d}"))
        .collect();
    assert_eq!(
        steps[3..6],
        [
            "transit-gateway tgw: in through attachment att-s1 (subnet spoke1-1, 10.11.1.4)",
            "transit-gateway tgw: route table spokes-rt (associated with att-s1): 10.10.0.0/16 -> att-shared (propagated)",
            "transit-gateway tgw: out through attachment att-shared (subnet shared-1, 10.10.1.4) (in the zone it came from, if the attachment has one there)",
        ],
        "{steps:#?}"
    );
    assert_eq!(text.verdict, "FORWARD to svc/eth0");
}

#[test]
fn disabling_a_propagation_cuts_the_route_and_enabling_restores_it() {
    let (t, mut dp) = hub(str::to_owned);
    let spokes = table(&t, "spokes-rt");
    let shared = attachment(&t, "att-shared");
    let mut cut = t.clone();
    cut.tgw_route_tables[spokes]
        .propagations
        .retain(|&a| a != shared);
    dp.apply(&cut, T0);
    let (v, _) = send(&mut dp, T0, S1, &echo(S1_IP, SVC_IP, true, 1));
    assert_eq!(v, drop(DropReason::TgwNoRoute));
    dp.apply(&t, T0);
    let (v, _) = send(&mut dp, T0, S1, &echo(S1_IP, SVC_IP, true, 1));
    assert_eq!(v, to_eni(SVC));
}

#[test]
fn a_static_route_hides_a_propagated_one_and_a_blackhole_drops() {
    // spokes-rt: 10.10.0.0/16 is propagated from att-shared; a static blackhole for
    // the same prefix hides it, a more specific static one sends to att-s2.
    let (t, mut dp) = hub(|s| {
        s.replace(
            "associations = [\"att-s1\", \"att-s2\"]\npropagations = [\"att-shared\"]\n",
            "associations = [\"att-s1\", \"att-s2\"]\npropagations = [\"att-shared\"]\nroute = [\n  { destination = \"10.10.0.0/16\", blackhole = true },\n]\n",
        )
    });
    let routes = t.tgw_routes(vpc_config::TgwRouteTableId(table(&t, "spokes-rt") as u32));
    assert_eq!(routes.len(), 1, "{routes:?}");
    let (v, _) = send(&mut dp, T0, S1, &echo(S1_IP, SVC_IP, true, 1));
    assert_eq!(v, drop(DropReason::TgwBlackhole));
    assert_eq!(dp.tgw_metrics(TGW).packet_drop_count_blackhole, 1);
    let text = trace::describe(&t, &dp.trace(T0, S1, Ipv4Addr::from(SVC_IP), Probe::Icmp));
    assert_eq!(
        text.because,
        "route table spokes-rt of transit gateway tgw has a blackhole route for 10.10.0.0/16"
    );
}

/// Every group admits UDP from 10.0.0.0/8 too.
fn udp_open(s: &str) -> String {
    s.replace(
        "  { protocol = \"icmp\", cidr = \"10.0.0.0/8\" },\n",
        "  { protocol = \"icmp\", cidr = \"10.0.0.0/8\" },\n  { protocol = \"udp\", from_port = 0, to_port = 65535, cidr = \"10.0.0.0/8\" },\n",
    )
}

#[test]
fn the_mtu_is_8500_and_without_df_a_larger_packet_is_dropped() {
    let (_, mut dp) = hub(udp_open);
    let (v, _) = send(&mut dp, T0, S1, &big_udp(S1_IP, SVC_IP, 8500, true));
    assert_eq!(v, to_eni(SVC));
    let (v, out) = send(&mut dp, T0, S1, &big_udp(S1_IP, SVC_IP, 8501, true));
    assert_eq!(
        v,
        Verdict::Reply {
            to: Port::Eni(S1),
            reply: Reply::IcmpError {
                cause: DropReason::TooBig
            }
        }
    );
    assert_eq!((out[20], out[21]), (3, 4));
    assert_eq!(u16::from_be_bytes([out[26], out[27]]), 8500);
    let (v, _) = send(&mut dp, T0, S1, &big_udp(S1_IP, SVC_IP, 8501, false));
    assert_eq!(v, drop(DropReason::TgwMtuExceeded));
}

#[test]
fn the_attachment_subnets_network_acl_guards_what_crosses_its_interface() {
    // att-shared's interface in a subnet of its own whose ACL admits nothing from
    // spoke2: svc's own subnet stays open.
    let (_, mut dp) = hub(|s| {
        s.replace(
            "name = \"att-shared\"\ntransit_gateway = \"tgw\"\nvpc = \"shared\"\nsubnets = [\"shared-1\"]\n",
            "name = \"att-shared\"\ntransit_gateway = \"tgw\"\nvpc = \"shared\"\nsubnets = [\"shared-tgw\"]\n",
        ) + r#"
[[subnet]]
name = "shared-tgw"
vpc = "shared"
cidr = "10.10.99.0/28"
az = "a"

[[network_acl]]
name = "tgw-nacl"
vpc = "shared"
subnets = ["shared-tgw"]
ingress = [
  { rule_number = 10, protocol = "icmp", action = "deny", cidr = "10.10.1.0/24" },
  { rule_number = 20, protocol = "all", action = "allow", cidr = "0.0.0.0/0" },
]
egress = [
  { rule_number = 10, protocol = "tcp", from_port = 0, to_port = 65535, action = "deny", cidr = "10.10.1.0/24" },
  { rule_number = 20, protocol = "all", action = "allow", cidr = "0.0.0.0/0" },
]
"#
    });
    // Into the VPC: out of the attachment's subnet (its outbound rules), into svc's.
    let (v, _) = send(&mut dp, T0, S1, &echo(S1_IP, SVC_IP, true, 1));
    assert_eq!(v, to_eni(SVC));
    let (v, _) = send(&mut dp, T0, S1, &tcp(S1_IP, 40000, SVC_IP, 80, SYN, 1, 0));
    assert_eq!(v, drop(DropReason::NaclOutbound));
    // Out of the VPC: into the attachment's subnet (its inbound rules).
    let (v, _) = send(&mut dp, T0, SVC, &echo(SVC_IP, S2_IP, true, 2));
    assert_eq!(v, drop(DropReason::NaclInbound));
}

#[test]
fn flows_through_an_attachment_are_tracked_whatever_the_groups_say() {
    // All-open groups would make TCP untracked; through an attachment it is tracked.
    let (_, mut dp) = hub(|s| {
        s.replace(
            "  { protocol = \"icmp\", cidr = \"10.0.0.0/8\" },\n  { protocol = \"tcp\", from_port = 0, to_port = 65535, cidr = \"10.0.0.0/8\" },\n",
            "  { protocol = \"all\", cidr = \"0.0.0.0/0\" },\n",
        )
    });
    let (v, _) = send(&mut dp, T0, S1, &tcp(S1_IP, 40000, SVC_IP, 80, SYN, 1, 0));
    assert_eq!(v, to_eni(SVC));
    assert_eq!(dp.flows(S1, T0).count(), 1, "s1 tracks it");
    assert_eq!(dp.flows(SVC, T0).count(), 1, "svc tracks it");
    let (v, _) = send(
        &mut dp,
        T0,
        SVC,
        &tcp(SVC_IP, 80, S1_IP, 40000, SYN_ACK, 7, 2),
    );
    assert_eq!(v, to_eni(S1));
}

/// Centralized inspection: app1 (zone a) and app2 (zone b) send everything through
/// the inspection VPC, whose attachment subnets route to the appliance of their zone.
const INSPECTION: &str = r#"
[[transit_gateway]]
name = "tgw"
default_route_table_association = "disable"
default_route_table_propagation = "disable"

[[vpc]]
name = "app1"
cidr = "10.21.0.0/16"

[[subnet]]
name = "app1-a"
vpc = "app1"
cidr = "10.21.1.0/24"
az = "a"

[[vpc]]
name = "app2"
cidr = "10.22.0.0/16"

[[subnet]]
name = "app2-b"
vpc = "app2"
cidr = "10.22.2.0/24"
az = "b"

[[vpc]]
name = "inspect"
cidr = "10.20.0.0/16"

[[subnet]]
name = "fw-a"
vpc = "inspect"
cidr = "10.20.1.0/24"
az = "a"

[[subnet]]
name = "fw-b"
vpc = "inspect"
cidr = "10.20.2.0/24"
az = "b"

[[subnet]]
name = "tgw-a"
vpc = "inspect"
cidr = "10.20.11.0/24"
az = "a"

[[subnet]]
name = "tgw-b"
vpc = "inspect"
cidr = "10.20.12.0/24"
az = "b"

[[instance]]
name = "h1"
subnet = "app1-a"
private_ip = "10.21.1.10"

[[instance]]
name = "h2"
subnet = "app2-b"
private_ip = "10.22.2.10"

[[instance]]
name = "fwa"
subnet = "fw-a"
private_ip = "10.20.1.10"
source_dest_check = false

[[instance]]
name = "fwb"
subnet = "fw-b"
private_ip = "10.20.2.10"
source_dest_check = false

[[route_table]]
name = "app1-rt"
vpc = "app1"
subnets = ["app1-a"]
route = [{ destination = "0.0.0.0/0", transit_gateway = "tgw" }]

[[route_table]]
name = "app2-rt"
vpc = "app2"
subnets = ["app2-b"]
route = [{ destination = "0.0.0.0/0", transit_gateway = "tgw" }]

[[route_table]]
name = "fw-rt"
vpc = "inspect"
subnets = ["fw-a", "fw-b"]
route = [{ destination = "10.0.0.0/8", transit_gateway = "tgw" }]

[[route_table]]
name = "tgw-a-rt"
vpc = "inspect"
subnets = ["tgw-a"]
route = [{ destination = "0.0.0.0/0", instance = "fwa" }]

[[route_table]]
name = "tgw-b-rt"
vpc = "inspect"
subnets = ["tgw-b"]
route = [{ destination = "0.0.0.0/0", instance = "fwb" }]

[[security_group]]
name = "default"
vpc = "app1"
ingress = [{ protocol = "all", cidr = "10.0.0.0/8" }]

[[security_group]]
name = "default"
vpc = "app2"
ingress = [{ protocol = "all", cidr = "10.0.0.0/8" }]

[[security_group]]
name = "default"
vpc = "inspect"
ingress = [{ protocol = "all", cidr = "10.0.0.0/8" }]

[[transit_gateway_vpc_attachment]]
name = "att-app1"
transit_gateway = "tgw"
vpc = "app1"
subnets = ["app1-a"]

[[transit_gateway_vpc_attachment]]
name = "att-app2"
transit_gateway = "tgw"
vpc = "app2"
subnets = ["app2-b"]

[[transit_gateway_vpc_attachment]]
name = "att-inspect"
transit_gateway = "tgw"
vpc = "inspect"
subnets = ["tgw-a", "tgw-b"]
appliance_mode_support = "enable"

[[transit_gateway_route_table]]
name = "spoke-rt"
transit_gateway = "tgw"
associations = ["att-app1", "att-app2"]
route = [{ destination = "0.0.0.0/0", transit_gateway_attachment = "att-inspect" }]

[[transit_gateway_route_table]]
name = "inspect-rt"
transit_gateway = "tgw"
associations = ["att-inspect"]
propagations = ["att-app1", "att-app2"]
"#;

const H1: EniId = EniId(0);
const H2: EniId = EniId(1);
const FWA: EniId = EniId(2);
const FWB: EniId = EniId(3);
const H1_IP: [u8; 4] = [10, 21, 1, 10];
const H2_IP: [u8; 4] = [10, 22, 2, 10];

/// The appliance each direction of TCP flows h1:port <-> h2:80 reaches, for ports
/// 40000..40000+n: (request's, reply's, and what becomes of the reply the appliance
/// forwards). Each appliance forwards what it gets, as a router would.
fn appliances(dp: &mut Dataplane, n: u16) -> Vec<(Verdict, Verdict, Verdict)> {
    let forward = |dp: &mut Dataplane, v: Verdict, bytes: &[u8]| match v {
        Verdict::Forward { to: Port::Eni(fw) } => send(dp, T0, fw, bytes).0,
        other => other,
    };
    (0..n)
        .map(|i| {
            let port = 40000 + i;
            let syn = tcp(H1_IP, port, H2_IP, 80, SYN, 1, 0);
            let there = send(dp, T0, H1, &syn).0;
            assert_eq!(forward(dp, there, &syn), to_eni(H2));
            let syn_ack = tcp(H2_IP, 80, H1_IP, port, SYN_ACK, 9, 2);
            let back = send(dp, T0, H2, &syn_ack).0;
            let delivered = forward(dp, back, &syn_ack);
            (there, back, delivered)
        })
        .collect()
}

#[test]
fn appliance_mode_keeps_both_directions_of_every_flow_on_one_appliance() {
    let t = parse(INSPECTION);
    let mut dp = Dataplane::new(&t);
    let seen = appliances(&mut dp, 16);
    for (there, back, delivered) in &seen {
        assert!(*there == to_eni(FWA) || *there == to_eni(FWB), "{there:?}");
        assert_eq!(there, back, "both directions through one appliance");
        assert_eq!(*delivered, to_eni(H1));
    }
    // The hash spreads flows over both zones' appliances.
    assert!(seen.iter().any(|(v, _, _)| *v == to_eni(FWA)));
    assert!(seen.iter().any(|(v, _, _)| *v == to_eni(FWB)));
    let text = trace::describe(&t, &dp.trace(T0, H1, Ipv4Addr::from(H2_IP), Probe::Tcp(80)));
    assert!(
        text.steps
            .iter()
            .any(|(_, d)| d.ends_with("(chosen by the flow's hash: appliance mode)")),
        "{:#?}",
        text.steps
    );
}

#[test]
fn without_appliance_mode_each_direction_stays_in_its_zone_and_the_path_is_asymmetric() {
    let t = parse(&INSPECTION.replace("appliance_mode_support = \"enable\"\n", ""));
    let mut dp = Dataplane::new(&t);
    // h1 is in zone a, h2 in zone b: the request goes through fwa, the reply to fwb,
    // which never saw the flow begin: its connection table refuses the SYN-ACK.
    let before = dp.counters().clone();
    for (there, back, _) in appliances(&mut dp, 4) {
        assert_eq!((there, back), (to_eni(FWA), drop(DropReason::TcpNoFlow)));
    }
    assert_eq!(
        dp.counters().eni(H2).dropped(DropReason::TcpNoFlow)
            - before.eni(H2).dropped(DropReason::TcpNoFlow),
        4
    );
    let text = trace::describe(&t, &dp.trace(T0, H2, Ipv4Addr::from(H1_IP), Probe::Tcp(80)));
    let delivered: Vec<&str> = text
        .steps
        .iter()
        .filter(|(s, _)| s == "deliver")
        .map(|(_, d)| d.as_str())
        .collect();
    assert_eq!(delivered, ["to fwb/eth0 (10.20.2.10, subnet fw-b)"]);
}

#[test]
fn an_appliance_sends_on_through_the_gateway() {
    // What fwa forwards (its check off) goes back into the gateway through the
    // inspection attachment, whose table routes it to app2.
    let t = parse(INSPECTION);
    let mut dp = Dataplane::new(&t);
    let syn = tcp(H1_IP, 40000, H2_IP, 80, SYN, 1, 0);
    let (v, _) = send(&mut dp, T0, FWA, &syn);
    assert_eq!(v, to_eni(H2));
    let mut p = PacketBuf::from_bytes(&syn);
    assert_eq!(dp.process(T0, FWB, &mut p), to_eni(H2));
}

/// Two regions, a gateway and a VPC each, and a peering attachment between the
/// gateways with static routes on both sides.
const TGW_PEERING: &str = r#"
[[transit_gateway]]
name = "east"
region = "us-east-1"

[[transit_gateway]]
name = "west"
region = "eu-west-1"

[[vpc]]
name = "e"
cidr = "10.31.0.0/16"

[[subnet]]
name = "e-1"
vpc = "e"
cidr = "10.31.1.0/24"
az = "us-east-1a"

[[vpc]]
name = "w"
cidr = "10.32.0.0/16"
region = "eu-west-1"

[[subnet]]
name = "w-1"
vpc = "w"
cidr = "10.32.1.0/24"
az = "eu-west-1a"

[[instance]]
name = "he"
subnet = "e-1"
private_ip = "10.31.1.10"

[[instance]]
name = "hw"
subnet = "w-1"
private_ip = "10.32.1.10"

[[route_table]]
name = "e-rt"
vpc = "e"
subnets = ["e-1"]
route = [{ destination = "10.0.0.0/8", transit_gateway = "east" }]

[[route_table]]
name = "w-rt"
vpc = "w"
subnets = ["w-1"]
route = [{ destination = "10.0.0.0/8", transit_gateway = "west" }]

[[security_group]]
name = "default"
vpc = "e"
ingress = [{ protocol = "icmp", cidr = "10.0.0.0/8" }]

[[security_group]]
name = "default"
vpc = "w"
ingress = [{ protocol = "icmp", cidr = "10.0.0.0/8" }]

[[transit_gateway_vpc_attachment]]
name = "att-e"
transit_gateway = "east"
vpc = "e"
subnets = ["e-1"]

[[transit_gateway_vpc_attachment]]
name = "att-w"
transit_gateway = "west"
vpc = "w"
subnets = ["w-1"]

[[transit_gateway_peering_attachment]]
name = "east-west"
transit_gateway = "east"
peer_transit_gateway = "west"

[[transit_gateway_route_table]]
name = "east-rt"
transit_gateway = "east"
default = true
associations = ["east-west"]
route = [{ destination = "10.32.0.0/16", transit_gateway_attachment = "east-west" }]

[[transit_gateway_route_table]]
name = "west-rt"
transit_gateway = "west"
default = true
associations = ["east-west"]
route = [{ destination = "10.31.0.0/16", transit_gateway_attachment = "east-west" }]
"#;

#[test]
fn peered_gateways_carry_traffic_between_regions_by_static_routes() {
    let t = parse(TGW_PEERING);
    let mut dp = Dataplane::new(&t);
    let (he, hw) = (EniId(0), EniId(1));
    let ping = echo([10, 31, 1, 10], [10, 32, 1, 10], true, 9);
    assert_eq!(send(&mut dp, T0, he, &ping).0, to_eni(hw));
    let pong = echo([10, 32, 1, 10], [10, 31, 1, 10], false, 9);
    assert_eq!(send(&mut dp, T0, hw, &pong).0, to_eni(he));
    let east = dp.tgw_metrics(TransitGatewayId(0));
    let west = dp.tgw_metrics(TransitGatewayId(1));
    assert_eq!((east.packets_in, east.packets_out), (2, 2));
    assert_eq!((west.packets_in, west.packets_out), (2, 2));
}

#[test]
fn a_zone_without_an_attachment_subnet_cannot_reach_the_gateway() {
    // A second subnet of spoke1, in zone b, where att-s1 has no interface.
    let (t, mut dp) = hub(|s| {
        format!(
            "{s}\n[[subnet]]\nname = \"spoke1-b\"\nvpc = \"spoke1\"\ncidr = \"10.11.2.0/24\"\naz = \"b\"\n\n\
             [[instance]]\nname = \"s1b\"\nsubnet = \"spoke1-b\"\nprivate_ip = \"10.11.2.10\"\nsecurity_groups = [\"spoke1-sg\"]\n"
        )
    });
    let s1b = t.find_eni("s1b").unwrap();
    // Its subnet uses the VPC's main table: route it to the gateway like spoke1-1.
    let mut t2 = t.clone();
    let rt = t2
        .route_tables
        .iter()
        .position(|r| r.name == "spoke1-rt")
        .unwrap();
    let b = t2
        .subnets
        .iter()
        .position(|s| s.name == "spoke1-b")
        .unwrap();
    t2.subnets[b].route_table = vpc_config::RouteTableId(rt as u32);
    dp.apply(&t2, T0);
    let (v, _) = send(&mut dp, T0, s1b, &echo([10, 11, 2, 10], SVC_IP, true, 1));
    assert_eq!(v, drop(DropReason::TgwZoneNotAttached));
}

#[test]
fn another_accounts_attachment_waits_for_acceptance() {
    // spoke2 belongs to another account, with which tgw is shared; its attachment is
    // pending until tgw's owner accepts it (or the gateway auto-accepts).
    let shared = |s: &str| {
        s.replace(
            "name = \"spoke2\"\ncidr = \"10.12.0.0/16\"\n",
            "name = \"spoke2\"\ncidr = \"10.12.0.0/16\"\nowner_id = \"444455556666\"\n",
        ) + "\n[[resource_share]]\nname = \"tgw-share\"\nresources = [\"tgw\"]\nprincipals = [\"444455556666\"]\n"
    };
    let (t, mut dp) = hub(shared);
    let att = attachment(&t, "att-s2");
    assert_eq!(
        t.tgw_attachment(att).status,
        vpc_config::AttachmentStatus::PendingAcceptance
    );
    let (v, _) = send(&mut dp, T0, S2, &echo(S2_IP, SVC_IP, true, 1));
    assert_eq!(v, drop(DropReason::RouteBlackhole));
    let (v, _) = send(&mut dp, T0, SVC, &echo(SVC_IP, S2_IP, true, 1));
    assert_eq!(
        v,
        drop(DropReason::TgwNoRoute),
        "not propagated while pending"
    );
    let mut accepted = t.clone();
    accepted.accept_tgw_attachment("att-s2").unwrap();
    dp.apply(&accepted, T0);
    let (v, _) = send(&mut dp, T0, S2, &echo(S2_IP, SVC_IP, true, 1));
    assert_eq!(v, to_eni(SVC));
    // Without the share, the file is refused.
    let unshared = shared(HUB).replace("principals = [\"444455556666\"]", "principals = []");
    assert!(vpc_config::parse(&unshared, "t.toml").is_err());
    // A gateway that auto-accepts shared attachments carries it at once.
    let (_, mut dp) = hub(|s| {
        shared(s).replace(
            "default_route_table_propagation = \"disable\"\n",
            "default_route_table_propagation = \"disable\"\nauto_accept_shared_attachments = \"enable\"\n",
        )
    });
    let (v, _) = send(&mut dp, T0, S2, &echo(S2_IP, SVC_IP, true, 1));
    assert_eq!(v, to_eni(SVC));
}

#[test]
fn a_deleted_attachment_takes_its_routes_with_it() {
    let (t, mut dp) = hub(str::to_owned);
    let mut deleted = t.clone();
    deleted.delete_tgw_attachment("att-shared").unwrap();
    dp.apply(&deleted, T0);
    // Its propagation into spokes-rt is gone ...
    let (v, _) = send(&mut dp, T0, S1, &echo(S1_IP, SVC_IP, true, 1));
    assert_eq!(v, drop(DropReason::TgwNoRoute));
    // ... and shared's route to the gateway is a blackhole.
    let (v, _) = send(&mut dp, T0, SVC, &echo(SVC_IP, S1_IP, true, 1));
    assert_eq!(v, drop(DropReason::RouteBlackhole));
    let rt = t
        .route_tables
        .iter()
        .position(|r| r.name == "shared-rt")
        .unwrap();
    let states: Vec<_> = dp
        .routes(vpc_config::RouteTableId(rt as u32))
        .map(|(r, s)| format!("{} {}", r.destination, s.name()))
        .collect();
    assert!(
        states.contains(&"10.0.0.0/8 blackhole".to_owned()),
        "{states:?}"
    );
    assert_eq!(
        deleted.delete_tgw_attachment("att-shared"),
        Err(vpc_config::EditError::AttachmentDeleted(
            "att-shared".into()
        ))
    );
}
