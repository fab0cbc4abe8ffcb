//! The Amazon Time Sync Service at 169.254.169.123 through the whole pipeline: an NTP
//! request from any instance is answered from the wall clock, whatever its security
//! groups and network ACLs say, and is in no flow log; anything else to the address is
//! dropped with a named reason.

use vpc_config::{EniId, Topology};

use super::{drop_delta, send};
use crate::pipeline::Dataplane;
use crate::testkit::ipv4;
use crate::time::Time;
use crate::trace::{self, Probe, Step};
use crate::verdict::{DropReason, Port, Reply, Verdict};
use crate::wire::checksum;

const DB: EniId = EniId(2);
const DB_IP: [u8; 4] = [10, 0, 12, 10];
const TIME: [u8; 4] = [169, 254, 169, 123];
/// The wall clock at `Time::ZERO`: 2026-12-06T00:00:00Z.
const WALL: u64 = 1_796_515_200 * 1_000_000_000;
/// 100.5 s later.
const T: Time = Time::from_nanos(100_500_000_000);

/// An NTP version 4 client request (poll 6), transmit timestamp 0x1122334455667788,
/// from port 40000.
fn request(mode: u8, ntp_len: usize) -> Vec<u8> {
    let mut ntp = vec![0u8; ntp_len];
    if ntp_len > 0 {
        ntp[0] = 4 << 3 | mode;
        ntp[2] = 6;
    }
    if ntp_len >= 48 {
        ntp[40..48].copy_from_slice(&[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    }
    udp(DB_IP, 40000, TIME, 123, &ntp)
}

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = vec![0u8; 8];
    u[0..2].copy_from_slice(&sport.to_be_bytes());
    u[2..4].copy_from_slice(&dport.to_be_bytes());
    u[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(payload);
    let c = checksum::transport(src.into(), dst.into(), 17, &u);
    u[6..8].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, 64, 17, &u)
}

/// The demo with db's group allowing nothing out and its subnet's network ACL
/// denying everything both ways.
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

#[test]
fn an_ntp_request_is_answered_from_the_wall_clock_whatever_the_rules() {
    let t = locked_down();
    let mut dp = Dataplane::new(&t);
    dp.set_wall_clock(WALL);
    let before = dp.counters().clone();
    let (verdict, reply) = send(&mut dp, T, DB, &request(3, 48));
    assert_eq!(
        verdict,
        Verdict::Reply {
            to: Port::Eni(DB),
            reply: Reply::TimeReply
        }
    );
    // IPv4 from the service to db, UDP 123 -> 40000, 56 bytes, checksums valid.
    assert_eq!(reply.len(), 76);
    assert_eq!(&reply[9..10], &[17]);
    assert_eq!(&reply[12..20], &[169, 254, 169, 123, 10, 0, 12, 10]);
    assert!(checksum::verifies(&reply[..20]));
    assert_eq!(&reply[20..26], &[0, 123, 0x9c, 0x40, 0, 56]);
    assert!(checksum::transport_verifies(
        TIME.into(),
        DB_IP.into(),
        17,
        &reply[20..]
    ));
    #[rustfmt::skip]
    let ntp: [u8; 48] = [
        0x24, 3, 6, 0xec,                                 // v4 server, stratum 3, poll 6, 2^-20
        0, 0, 0, 0,  0, 0, 0, 0x10,                       // root delay 0, dispersion 16/65536
        169, 254, 169, 123,                               // reference ID
        0xee, 0xbf, 0x24, 0x64, 0, 0, 0, 0,               // reference: this second
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,   // origin: the request's transmit
        0xee, 0xbf, 0x24, 0x64, 0x80, 0, 0, 0,            // receive: 100.5 s after WALL
        0xee, 0xbf, 0x24, 0x64, 0x80, 0, 0, 0,            // transmit
    ];
    assert_eq!(&reply[28..], &ntp);
    let after = dp.counters();
    assert_eq!(after.router.time_replies - before.router.time_replies, 1);
    assert_eq!(drop_delta(&before, after), Vec::<String>::new());
    assert_eq!(after.eni(DB).rx_packets - before.eni(DB).rx_packets, 1);
    assert_eq!(after.eni(DB).tx_packets - before.eni(DB).tx_packets, 1);
    // The demo's flow log covers db: the exchange is in no record (nor a NODATA one
    // would be, had packets been counted).
    // (A datagram to app, refused by db's group, is logged: the log does cover db.)
    let refused = udp(DB_IP, 40001, [10, 0, 2, 10], 9, &[0; 4]);
    assert_eq!(
        send(&mut dp, T, DB, &refused).0,
        Verdict::Drop(DropReason::SgEgress)
    );
    let mut records = Vec::new();
    dp.flush_all_flow_logs(T, &mut records);
    assert!(records.iter().any(|r| r.dst_port == 9), "{records:?}");
    assert!(
        records
            .iter()
            .all(|r| r.dst != std::net::Ipv4Addr::from(TIME)
                && r.src != std::net::Ipv4Addr::from(TIME)),
        "{records:?}"
    );
}

#[test]
fn anything_else_to_the_time_service_is_dropped_with_its_reason() {
    let mut dp = Dataplane::new(&Topology::demo());
    dp.set_wall_clock(WALL);
    let cases = [
        (request(4, 48), DropReason::TimeRequestMalformed), // a server's packet
        (request(3, 47), DropReason::TimeRequestMalformed), // short of a header
        (
            udp(DB_IP, 40000, TIME, 53, &[0; 48]),
            DropReason::LinkLocalService,
        ),
        (
            udp(DB_IP, 40000, [169, 254, 169, 254], 123, &[0x23; 48]),
            DropReason::LinkLocalService,
        ),
    ];
    for (pkt, reason) in cases {
        let before = dp.counters().clone();
        assert_eq!(send(&mut dp, T, DB, &pkt).0, Verdict::Drop(reason));
        assert_eq!(
            drop_delta(&before, dp.counters()),
            [format!("{} +1", reason.name())]
        );
    }
    assert_eq!(dp.counters().router.time_replies, 0);
}

#[test]
fn trace_shows_the_time_service_answering() {
    let t = locked_down();
    let dp = Dataplane::new(&t);
    let walked = dp.trace(T, Port::Eni(DB), TIME.into(), Probe::Udp(123));
    assert_eq!(walked.steps, [Step::TimeSync]);
    let described = trace::describe(&t, &walked);
    assert_eq!(described.steps[0].0, "time");
}
