//! The VPC's DNS resolver and metadata service through the whole pipeline: questions
//! from any instance go to the services port with the asker's port slot in the source
//! (whatever its security groups and network ACLs say, and in no flow log), answers
//! come back turned around to the asker, and anything else to the services' addresses
//! is dropped with a named reason.

use std::net::Ipv4Addr;

use vpc_config::{EniId, Topology};

use super::{SYN, SYN_ACK, drop_delta, send};
use crate::pipeline::Dataplane;
use crate::testkit::{echo, tcp, udp};
use crate::time::Time;
use crate::trace::{self, Probe, Step};
use crate::verdict::{DropReason, Port, Verdict};
use crate::wire::checksum;

const WEB: EniId = EniId(0);
const DB: EniId = EniId(2);
const WEB_IP: [u8; 4] = [10, 0, 1, 10];
const DB_IP: [u8; 4] = [10, 0, 12, 10];
const RESOLVER: [u8; 4] = [10, 0, 0, 2];
const DNS: [u8; 4] = [169, 254, 169, 253];
const IMDS: [u8; 4] = [169, 254, 169, 254];
const T: Time = Time::from_nanos(1_000_000_000);

/// The demo with db's group allowing nothing out and its subnet's network ACL denying
/// everything both ways.
fn locked_down() -> Topology {
    let mut t = Topology::demo();
    let db_sg = t
        .security_groups
        .iter()
        .position(|g| g.name == "db-sg")
        .unwrap();
    t.security_groups[db_sg].egress.clear();
    let acl = t.subnets[t.eni(DB).subnet.index()].network_acl;
    t.network_acls[acl.index()].ingress.clear();
    t.network_acls[acl.index()].egress.clear();
    t
}

/// Addresses and TCP/UDP ports of `pkt`, and whether its checksums verify.
fn shape(pkt: &[u8]) -> ([u8; 4], u16, [u8; 4], u16, bool) {
    let src: [u8; 4] = pkt[12..16].try_into().unwrap();
    let dst: [u8; 4] = pkt[16..20].try_into().unwrap();
    let ok = checksum::verifies(&pkt[..20])
        && checksum::transport_verifies(src.into(), dst.into(), pkt[9], &pkt[20..]);
    let port = |at: usize| u16::from_be_bytes([pkt[at], pkt[at + 1]]);
    (src, port(20), dst, port(22), ok)
}

#[test]
fn a_dns_question_at_base_plus_two_goes_to_the_services_port_and_back_whatever_the_rules() {
    let t = locked_down();
    let mut dp = Dataplane::new(&t);
    let slot = dp.snapshot.ports().slot(Port::Eni(DB));
    let before = dp.counters().clone();
    let (v, out) = send(&mut dp, T, DB, &udp(DB_IP, 40000, RESOLVER, 53));
    assert_eq!(v, Verdict::Forward { to: Port::Services });
    // From 100.65.<slot> (asked at base+2) to the resolver's link-local address.
    let client = [100, 65, 0, slot as u8];
    assert_eq!(shape(&out), (client, 40000, DNS, 53, true));
    // The resolver's answer comes back from base+2 to db.
    let (v, back) = send(&mut dp, T, Port::Services, &udp(DNS, 53, client, 40000));
    assert_eq!(v, Verdict::Forward { to: Port::Eni(DB) });
    assert_eq!(shape(&back), (RESOLVER, 53, DB_IP, 40000, true));
    let after = dp.counters();
    assert_eq!(drop_delta(&before, after), Vec::<String>::new());
    assert_eq!(after.eni(DB).rx_packets - before.eni(DB).rx_packets, 1);
    assert_eq!(after.eni(DB).tx_packets - before.eni(DB).tx_packets, 1);
    assert_eq!(after.services.rx_packets - before.services.rx_packets, 1);
    assert_eq!(after.services.tx_packets - before.services.tx_packets, 1);
    // The demo's flow log covers db: neither direction is in it.
    let mut records = Vec::new();
    dp.flush_all_flow_logs(T, &mut records);
    assert!(
        records.iter().all(|r| r.dst_port != 53 && r.src_port != 53),
        "{records:?}"
    );
}

#[test]
fn a_metadata_connection_keeps_the_link_local_address_both_ways() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    let slot = dp.snapshot.ports().slot(Port::Eni(WEB));
    let (v, out) = send(&mut dp, T, WEB, &tcp(WEB_IP, 40000, IMDS, 80, SYN, 1, 0));
    assert_eq!(v, Verdict::Forward { to: Port::Services });
    let client = [100, 64, 0, slot as u8];
    assert_eq!(shape(&out), (client, 40000, IMDS, 80, true));
    let syn_ack = tcp(IMDS, 80, client, 40000, SYN_ACK, 9, 2);
    let (v, back) = send(&mut dp, T, Port::Services, &syn_ack);
    assert_eq!(v, Verdict::Forward { to: Port::Eni(WEB) });
    assert_eq!(shape(&back), (IMDS, 80, WEB_IP, 40000, true));
    // DNS at 169.254.169.253 is answered from there too.
    let (v, out) = send(&mut dp, T, WEB, &udp(WEB_IP, 5353, DNS, 53));
    assert_eq!(v, Verdict::Forward { to: Port::Services });
    assert_eq!(shape(&out), (client, 5353, DNS, 53, true));
    let (_, back) = send(&mut dp, T, Port::Services, &udp(DNS, 53, client, 5353));
    assert_eq!(shape(&back), (DNS, 53, WEB_IP, 5353, true));
}

#[test]
fn anything_else_to_the_services_is_dropped_with_its_reason() {
    let mut t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    let before = dp.counters().clone();
    let cases = [
        (echo(WEB_IP, IMDS, true, 1), DropReason::LinkLocalService),
        (udp(WEB_IP, 40000, IMDS, 80), DropReason::LinkLocalService),
        (
            tcp(WEB_IP, 40000, IMDS, 443, SYN, 1, 0),
            DropReason::LinkLocalService,
        ),
        (
            tcp(WEB_IP, 40000, DNS, 80, SYN, 1, 0),
            DropReason::LinkLocalService,
        ),
        (
            echo(WEB_IP, RESOLVER, true, 1),
            DropReason::LinkLocalService,
        ),
        (
            udp(WEB_IP, 40000, [169, 254, 170, 2], 80),
            DropReason::DstLinkLocal,
        ),
        (
            udp(WEB_IP, 40000, [169, 254, 1, 1], 53),
            DropReason::DstLinkLocal,
        ),
    ];
    for (pkt, reason) in &cases {
        assert_eq!(send(&mut dp, T, WEB, pkt).0, Verdict::Drop(*reason));
    }
    // Answers to nobody: a client address of no port, of a port that is not an ENI,
    // from an address that is not a service's, or not TCP/UDP.
    let services = dp.snapshot.ports().slot(Port::Services) as u8;
    for pkt in [
        udp(DNS, 53, [100, 64, 0, 200], 40000),
        udp(DNS, 53, [100, 64, 0, services], 40000),
        udp([169, 254, 169, 123], 53, [100, 64, 0, 0], 40000),
        udp(DNS, 53, [10, 0, 1, 10], 40000),
        echo(IMDS, [100, 64, 0, 0], false, 1),
    ] {
        assert_eq!(
            send(&mut dp, T, Port::Services, &pkt).0,
            Verdict::Drop(DropReason::ServicesNoClient)
        );
    }
    assert_eq!(
        drop_delta(&before, dp.counters()),
        [
            "link-local-service +5",
            "services-no-client +5",
            "dst-link-local +2"
        ]
    );
    // A VPC without DNS support has no resolver, at either address.
    let vpc = t.vpcs.iter().position(|v| v.name == "demo").unwrap();
    t.vpcs[vpc].enable_dns_support = false;
    dp.apply(&t, T);
    for dst in [RESOLVER, DNS] {
        assert_eq!(
            send(&mut dp, T, WEB, &udp(WEB_IP, 40000, dst, 53)).0,
            Verdict::Drop(DropReason::DnsSupportDisabled)
        );
    }
    // The metadata service stays.
    assert_eq!(
        send(&mut dp, T, WEB, &tcp(WEB_IP, 40000, IMDS, 80, SYN, 1, 0)).0,
        Verdict::Forward { to: Port::Services }
    );
}

#[test]
fn an_appliance_asks_from_its_own_address_only() {
    let mut t = Topology::demo();
    t.enis[WEB.index()].source_dest_check = false;
    let mut dp = Dataplane::new(&t);
    assert_eq!(
        send(&mut dp, T, WEB, &udp([10, 0, 9, 9], 40000, DNS, 53)).0,
        Verdict::Drop(DropReason::LinkLocalService)
    );
    assert_eq!(
        send(&mut dp, T, WEB, &udp(WEB_IP, 40000, DNS, 53)).0,
        Verdict::Forward { to: Port::Services }
    );
}

#[test]
fn an_answer_for_a_removed_instance_goes_nowhere() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    let slot = dp.snapshot.ports().slot(Port::Eni(DB));
    let client = [100, 64, 0, slot as u8];
    let demo = include_str!("../../../../config/demo.toml");
    let db = "[[instance]]\nname = \"db\"\nsubnet = \"private-b\"\nprivate_ip = \"10.0.12.10\"\nsecurity_groups = [\"db-sg\"]\n";
    assert!(demo.contains(db));
    dp.apply(&super::parse(&demo.replace(db, "")), T);
    assert_eq!(
        send(&mut dp, T, Port::Services, &udp(DNS, 53, client, 40000)).0,
        Verdict::Drop(DropReason::ServicesNoClient)
    );
}

#[test]
fn trace_names_the_service() {
    let dp = Dataplane::new(&Topology::demo());
    let t = Topology::demo();
    let walked = dp.trace(T, Port::Eni(DB), Ipv4Addr::from(RESOLVER), Probe::Udp(53));
    assert_eq!(walked.verdict, Verdict::Forward { to: Port::Services });
    assert_eq!(
        walked.steps,
        [Step::Service {
            service: crate::services::Service::Dns
        }]
    );
    assert_eq!(trace::describe(&t, &walked).steps[0].0, "service");
    let walked = dp.trace(T, Port::Eni(DB), Ipv4Addr::from(IMDS), Probe::Tcp(80));
    assert_eq!(
        walked.steps,
        [Step::Service {
            service: crate::services::Service::Metadata
        }]
    );
}

#[test]
fn an_interface_may_ask_1024_packets_a_second() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    let before = dp.counters().clone();
    let question = udp(WEB_IP, 40000, RESOLVER, 53);
    for _ in 0..1024 {
        assert_eq!(
            send(&mut dp, T, WEB, &question).0,
            Verdict::Forward { to: Port::Services }
        );
    }
    assert_eq!(
        send(&mut dp, T, WEB, &question).0,
        Verdict::Drop(DropReason::DnsRateLimited)
    );
    // Another interface has its own budget; the next second brings a new one.
    assert_eq!(
        send(&mut dp, T, DB, &udp(DB_IP, 40000, DNS, 53)).0,
        Verdict::Forward { to: Port::Services }
    );
    let next = Time::from_nanos(2_000_000_000);
    assert_eq!(
        send(&mut dp, next, WEB, &question).0,
        Verdict::Forward { to: Port::Services }
    );
    assert_eq!(drop_delta(&before, dp.counters()), ["dns-rate-limited +1"]);
    // The metadata service has no such limit here.
    for _ in 0..1100 {
        assert_eq!(
            send(&mut dp, next, WEB, &tcp(WEB_IP, 40001, IMDS, 80, SYN, 1, 0)).0,
            Verdict::Forward { to: Port::Services }
        );
    }
}

#[test]
fn short_transport_headers_to_the_services_do_not_break_anything() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    // 8 bytes of a TCP header (ports only) to the metadata service, and to DNS: the
    // ports are read, the rewrite leaves what it cannot reach; the services' kernel
    // drops them.
    for (dst, port) in [(IMDS, 80u16), (RESOLVER, 53)] {
        let mut l4 = vec![0u8; 8];
        l4[0..2].copy_from_slice(&40000u16.to_be_bytes());
        l4[2..4].copy_from_slice(&port.to_be_bytes());
        let pkt = crate::testkit::ipv4(WEB_IP, dst, 64, 6, &l4);
        assert_eq!(
            send(&mut dp, T, WEB, &pkt).0,
            Verdict::Forward { to: Port::Services }
        );
    }
    // Fewer than 8 bytes: no ports to read.
    let pkt = crate::testkit::ipv4(WEB_IP, IMDS, 64, 6, &[0x9c, 0x40, 0, 80]);
    assert_eq!(
        send(&mut dp, T, WEB, &pkt).0,
        Verdict::Drop(DropReason::LinkLocalService)
    );
}

#[test]
fn an_internet_host_asks_the_internets_resolver_at_the_link_local_address() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    let host = vpc_config::HostId(0);
    let addr = [203, 0, 113, 10];
    let slot = dp.snapshot.ports().slot(Port::Host(host));
    let client = [100, 64, 0, slot as u8];
    let (v, out) = send(&mut dp, T, host, &udp(addr, 40000, DNS, 53));
    assert_eq!(v, Verdict::Forward { to: Port::Services });
    assert_eq!(shape(&out), (client, 40000, DNS, 53, true));
    let (v, back) = send(&mut dp, T, Port::Services, &udp(DNS, 53, client, 40000));
    assert_eq!(
        v,
        Verdict::Forward {
            to: Port::Host(host)
        }
    );
    assert_eq!(shape(&back), (DNS, 53, addr, 40000, true));
    // Nothing else link-local: no metadata, no other address, no other port.
    let before = dp.counters().clone();
    for pkt in [
        tcp(addr, 40000, IMDS, 80, SYN, 1, 0),
        udp(addr, 40000, DNS, 5353),
        udp(addr, 40000, [169, 254, 1, 1], 53),
    ] {
        assert!(matches!(send(&mut dp, T, host, &pkt).0, Verdict::Drop(_)));
    }
    assert_eq!(
        drop_delta(&before, dp.counters()),
        ["link-local-service +1", "dst-link-local +2"]
    );
}
