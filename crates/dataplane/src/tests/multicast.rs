//! Transit gateway multicast through the whole pipeline, on `config/multicast.toml`:
//! a datagram to a group reaches every member and nobody else, sources are checked,
//! each member's firewall applies, and copies are counted on each member's port.

use std::net::Ipv4Addr;

use vpc_config::EniId;

use super::{delta, drop, parse, send};
use crate::pipeline::Dataplane;
use crate::testkit::udp;
use crate::time::Time;
use crate::trace::{self, Probe};
use crate::verdict::{DropReason, Verdict};

const MULTICAST: &str = include_str!("../../../../config/multicast.toml");

const CAM: EniId = EniId(0);
const TV1: EniId = EniId(1);
const TV2: EniId = EniId(2);
const RADIO: EniId = EniId(3);
const CAM_IP: [u8; 4] = [10, 40, 1, 10];
const RADIO_IP: [u8; 4] = [10, 40, 1, 13];
const GROUP: [u8; 4] = [239, 1, 1, 1];
const T0: Time = Time::from_secs(1000);

/// The members a multicast verdict sends copies to.
fn copies(dp: &Dataplane, v: Verdict) -> Vec<EniId> {
    let Verdict::Multicast { group, members } = v else {
        panic!("not multicast: {v:?}");
    };
    dp.multicast_members(group)
        .iter()
        .enumerate()
        .filter(|(i, _)| members & (1 << i) != 0)
        .map(|(_, &e)| e)
        .collect()
}

#[test]
fn a_datagram_to_a_group_reaches_every_member_and_no_one_else() {
    let t = parse(MULTICAST);
    let mut dp = Dataplane::new(&t);
    let before = dp.counters().clone();
    let (v, out) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, GROUP, 5004));
    assert_eq!(copies(&dp, v), [TV1, TV2]);
    assert_eq!(out, udp(CAM_IP, 5000, GROUP, 5004), "sent unchanged");
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "cam/eth0 rx_packets +1",
            "cam/eth0 rx_bytes +32",
            "tv1/eth0 tx_packets +1",
            "tv1/eth0 tx_bytes +32",
            "tv2/eth0 tx_packets +1",
            "tv2/eth0 tx_bytes +32",
        ]
    );
    let text = trace::describe(
        &t,
        &dp.trace(T0, CAM, Ipv4Addr::from(GROUP), Probe::Udp(5004)),
    );
    assert_eq!(text.verdict, "MULTICAST to 2 members");
    assert!(
        text.steps.iter().any(|(s, d)| s == "multicast mcast"
            && d == "group 239.1.1.1: 2 of 2 members get a copy (domain mcast of transit gateway tgw)"),
        "{:#?}",
        text.steps
    );
}

#[test]
fn only_a_registered_source_sends_and_an_empty_group_gets_nothing() {
    let t = parse(MULTICAST);
    let mut dp = Dataplane::new(&t);
    let (v, _) = send(&mut dp, T0, RADIO, &udp(RADIO_IP, 5000, GROUP, 5004));
    assert_eq!(v, drop(DropReason::MulticastNotSource));
    let (v, _) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, [239, 9, 9, 9], 5004));
    assert_eq!(v, drop(DropReason::MulticastNoMembers));
    // Local network control (224.0.0.0/24) is never carried.
    let (v, _) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, [224, 0, 0, 251], 5353));
    assert_eq!(v, drop(DropReason::DstMulticast));
    // With IGMPv2 support any interface of the domain's subnets may send.
    let t = parse(&MULTICAST.replace(
        "name = \"mcast\"\ntransit_gateway = \"tgw\"\n",
        "name = \"mcast\"\ntransit_gateway = \"tgw\"\nigmpv2_support = \"enable\"\n",
    ));
    let mut dp = Dataplane::new(&t);
    let (v, _) = send(&mut dp, T0, RADIO, &udp(RADIO_IP, 5000, GROUP, 5004));
    assert_eq!(copies(&dp, v), [TV1, TV2]);
}

#[test]
fn a_members_security_group_decides_whether_it_gets_a_copy() {
    // tv2 in a group that admits nothing.
    let t = parse(&format!(
        "{}\n[[security_group]]\nname = \"closed\"\nvpc = \"media\"\ningress = []\n",
        MULTICAST.replace(
            "name = \"tv2\"\nsubnet = \"media-1\"\nprivate_ip = \"10.40.1.12\"\n",
            "name = \"tv2\"\nsubnet = \"media-1\"\nprivate_ip = \"10.40.1.12\"\nsecurity_groups = [\"closed\"]\n",
        )
    ));
    let mut dp = Dataplane::new(&t);
    let (v, _) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, GROUP, 5004));
    assert_eq!(copies(&dp, v), [TV1]);
    // Down, tv1 gets nothing either: no member is left.
    dp.set_link(TV1, false);
    let (v, _) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, GROUP, 5004));
    assert!(matches!(v, Verdict::Drop(_)), "{v:?}");
}

/// An IGMPv3 report from `src` to 224.0.0.22 (TTL 1, as Linux sends it, without the
/// router alert option) with one record of `kind` for `group` and no sources.
fn igmp_v3(src: [u8; 4], kind: u8, group: [u8; 4]) -> Vec<u8> {
    let mut m = vec![0x22, 0, 0, 0, 0, 0, 0, 1, kind, 0, 0, 0];
    m.extend_from_slice(&group);
    let c = crate::wire::checksum::internet(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    crate::testkit::ipv4(src, [224, 0, 0, 22], 1, 2, &m)
}

#[test]
fn with_igmpv2_support_interfaces_join_and_leave_groups() {
    let t = parse(&MULTICAST.replace(
        "name = \"mcast\"\ntransit_gateway = \"tgw\"\n",
        "name = \"mcast\"\ntransit_gateway = \"tgw\"\nigmpv2_support = \"enable\"\n",
    ));
    let mut dp = Dataplane::new(&t);
    // radio joins 239.1.1.1 (CHANGE_TO_EXCLUDE {}): it gets the next datagram.
    let (v, _) = send(&mut dp, T0, RADIO, &igmp_v3(RADIO_IP, 4, GROUP));
    assert_eq!(v, drop(DropReason::Igmp));
    let (v, _) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, GROUP, 5004));
    assert_eq!(copies(&dp, v), [TV1, TV2, RADIO]);
    // A group nobody registered, joined by tv1 alone.
    let other = [239, 5, 5, 5];
    send(&mut dp, T0, TV1, &igmp_v3([10, 40, 1, 11], 4, other));
    let (v, _) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, other, 5004));
    assert_eq!(copies(&dp, v), [TV1]);
    // Joins survive a configuration change.
    dp.apply(&t, T0);
    let (v, _) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, GROUP, 5004));
    assert_eq!(copies(&dp, v), [TV1, TV2, RADIO]);
    // radio leaves (CHANGE_TO_INCLUDE {}); tv2 "leaves" too, but is registered.
    send(&mut dp, T0, RADIO, &igmp_v3(RADIO_IP, 3, GROUP));
    send(&mut dp, T0, TV2, &igmp_v3([10, 40, 1, 12], 3, GROUP));
    let (v, _) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, GROUP, 5004));
    assert_eq!(copies(&dp, v), [TV1, TV2]);
    // Without IGMPv2 support a report is local network control, and changes nothing.
    let t = parse(MULTICAST);
    let mut dp = Dataplane::new(&t);
    let (v, _) = send(&mut dp, T0, RADIO, &igmp_v3(RADIO_IP, 4, GROUP));
    assert_eq!(v, drop(DropReason::DstMulticast));
    let (v, _) = send(&mut dp, T0, CAM, &udp(CAM_IP, 5000, GROUP, 5004));
    assert_eq!(copies(&dp, v), [TV1, TV2]);
}

#[test]
fn an_attachment_a_domain_associates_cannot_be_deleted() {
    let mut t = parse(MULTICAST);
    assert_eq!(
        t.delete_tgw_attachment("att-media"),
        Err(vpc_config::EditError::AttachmentInMulticastDomain {
            attachment: "att-media".into(),
            domain: "mcast".into(),
        })
    );
}
