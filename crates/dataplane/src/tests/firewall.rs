//! The pipeline's firewall stages together (security groups, network ACLs, connection
//! tracking, flow logs, trace and rule changes), on the demo and small topologies, with
//! a simulated clock. Each test states one AWS rule and asserts exact verdicts and
//! counter changes.

use std::net::Ipv4Addr;
use std::time::Duration;

use vpc_config::{EniId, Topology};

use super::{ACK, FIN_ACK, PSH_ACK, SYN, SYN_ACK, drop, drop_delta, parse, to_eni};
use crate::flowlog::{Action, Direction, FlowRecord, LogStatus};
use crate::pipeline::{Dataplane, Limits};
use crate::testkit::{echo, port_unreachable, tcp, udp};
use crate::time::Time;
use crate::trace::{self, Probe};
use crate::verdict::{DropReason, Verdict};

const WEB: EniId = EniId(0);
const APP: EniId = EniId(1);
const DB: EniId = EniId(2);
const WEB_IP: [u8; 4] = [10, 0, 1, 10];
const APP_IP: [u8; 4] = [10, 0, 2, 10];
const DB_IP: [u8; 4] = [10, 0, 12, 10];
const T0: Time = Time::from_secs(1000);

/// Sends `bytes` from `from`; returns the verdict.
fn send(dp: &mut Dataplane, now: Time, from: EniId, bytes: &[u8]) -> Verdict {
    super::send(dp, now, from, bytes).0
}

fn fwd(to: EniId) -> Verdict {
    to_eni(to)
}

#[test]
fn demo_web_reaches_app_8080_and_the_replies_pass() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    let before = dp.counters().clone();
    assert_eq!(
        send(
            &mut dp,
            T0,
            WEB,
            &tcp(WEB_IP, 40000, APP_IP, 8080, SYN, 100, 0)
        ),
        fwd(APP)
    );
    assert_eq!(
        send(
            &mut dp,
            T0,
            APP,
            &tcp(APP_IP, 8080, WEB_IP, 40000, SYN_ACK, 900, 101)
        ),
        fwd(WEB)
    );
    assert_eq!(
        send(
            &mut dp,
            T0,
            WEB,
            &tcp(WEB_IP, 40000, APP_IP, 8080, ACK, 101, 901)
        ),
        fwd(APP)
    );
    assert_eq!(
        send(&mut dp, T0, WEB, &echo(WEB_IP, APP_IP, true, 7)),
        fwd(APP)
    );
    assert_eq!(
        send(&mut dp, T0, APP, &echo(APP_IP, WEB_IP, false, 7)),
        fwd(WEB)
    );
    assert_eq!(drop_delta(&before, dp.counters()), Vec::<String>::new());
    // Both ENIs track the connection.
    assert!(
        dp.flows(WEB, T0)
            .any(|f| f.dst_port == 8080 && f.state == "established")
    );
    assert!(
        dp.flows(APP, T0)
            .any(|f| f.dst_port == 8080 && f.state == "established")
    );
}

#[test]
fn demo_nacl_denies_web_to_db_and_the_sg_denies_app_pinging_db() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    let before = dp.counters().clone();
    // private-b-nacl inbound rule 100 denies 10.0.1.0/24, before db-sg is consulted.
    let v = send(
        &mut dp,
        T0,
        WEB,
        &tcp(WEB_IP, 40000, DB_IP, 5432, SYN, 1, 0),
    );
    assert_eq!(v, drop(DropReason::NaclInbound));
    assert_eq!(
        send(&mut dp, T0, WEB, &echo(WEB_IP, DB_IP, true, 1)),
        drop(DropReason::NaclInbound)
    );
    // app is a member of app-sg: db-sg allows tcp 5432 from it, and no ICMP.
    assert_eq!(
        send(
            &mut dp,
            T0,
            APP,
            &tcp(APP_IP, 40001, DB_IP, 5432, SYN, 1, 0)
        ),
        fwd(DB)
    );
    assert_eq!(
        send(
            &mut dp,
            T0,
            DB,
            &tcp(DB_IP, 5432, APP_IP, 40001, SYN_ACK, 50, 2)
        ),
        fwd(APP)
    );
    assert_eq!(
        send(&mut dp, T0, APP, &echo(APP_IP, DB_IP, true, 2)),
        drop(DropReason::SgIngress)
    );
    assert_eq!(
        drop_delta(&before, dp.counters()),
        ["nacl-inbound +2", "sg-ingress +1"]
    );
    // Drops count on the sending ENI.
    assert_eq!(dp.counters().eni(WEB).dropped(DropReason::NaclInbound), 2);
    assert_eq!(dp.counters().eni(APP).dropped(DropReason::SgIngress), 1);
}

#[test]
fn unsolicited_packets_against_an_allowed_flow_are_dropped() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    // db may answer app's connection, but not open one to app:8080 (only web-sg may).
    assert_eq!(
        send(&mut dp, T0, DB, &tcp(DB_IP, 5432, APP_IP, 8080, SYN, 1, 0)),
        drop(DropReason::SgIngress)
    );
    // A SYN-ACK nobody asked for: web's egress rules allow it, but its flow would be
    // tracked, and a SYN-ACK can neither start a connection nor be picked up.
    assert_eq!(
        send(
            &mut dp,
            T0,
            WEB,
            &tcp(WEB_IP, 8080, APP_IP, 40000, SYN_ACK, 1, 1)
        ),
        drop(DropReason::TcpNoFlow)
    );
    // Nor can a RST.
    assert_eq!(
        send(
            &mut dp,
            T0,
            WEB,
            &tcp(WEB_IP, 8080, APP_IP, 40000, 0x04, 1, 0)
        ),
        drop(DropReason::TcpNoFlow)
    );
    // An echo reply to no request is never allowed (ICMP is always tracked).
    assert_eq!(
        send(&mut dp, T0, APP, &echo(APP_IP, WEB_IP, false, 9)),
        drop(DropReason::IcmpUnsolicitedReply)
    );
}

/// Two subnets; `a` holds two instances, `b` one; `extra` adds NACLs or groups.
fn two_subnets(extra: &str) -> Topology {
    parse(&format!(
        r#"
[[vpc]]
name = "v"
cidr = "10.1.0.0/16"

[[subnet]]
name = "a"
vpc = "v"
cidr = "10.1.1.0/24"
az = "x"

[[subnet]]
name = "b"
vpc = "v"
cidr = "10.1.2.0/24"
az = "x"

[[instance]]
name = "a1"
subnet = "a"
private_ip = "10.1.1.10"

[[instance]]
name = "a2"
subnet = "a"
private_ip = "10.1.1.20"

[[instance]]
name = "b1"
subnet = "b"
private_ip = "10.1.2.10"
{extra}
"#
    ))
}
/// [`two_subnets`] with b1 a DNS server: its only group allows UDP 53 from the VPC.
fn dns_server() -> Topology {
    two_subnets(
        r#"
[[security_group]]
name = "dns"
vpc = "v"
ingress = [{ protocol = "udp", port = 53, cidr = "10.1.0.0/16" }]
"#,
    )
    .with_groups(&[("b1", &["dns"])])
}

const A1: EniId = EniId(0);
const A2: EniId = EniId(1);
const B1: EniId = EniId(2);
const A1_IP: [u8; 4] = [10, 1, 1, 10];
const A2_IP: [u8; 4] = [10, 1, 1, 20];
const B1_IP: [u8; 4] = [10, 1, 2, 10];

#[test]
fn a_custom_nacl_denies_all_but_never_between_enis_of_its_subnet() {
    let t = two_subnets("[[network_acl]]\nname = \"closed\"\nvpc = \"v\"\nsubnets = [\"a\"]\n");
    let mut dp = Dataplane::new(&t);
    // The default group allows its members; within subnet a no NACL applies.
    assert_eq!(send(&mut dp, T0, A1, &echo(A1_IP, A2_IP, true, 1)), fwd(A2));
    assert_eq!(
        send(&mut dp, T0, A2, &echo(A2_IP, A1_IP, false, 1)),
        fwd(A1)
    );
    // Leaving a: the custom NACL has no rules, so its `*` rule denies.
    assert_eq!(
        send(&mut dp, T0, A1, &echo(A1_IP, B1_IP, true, 2)),
        drop(DropReason::NaclOutbound)
    );
    // Entering a from b.
    assert_eq!(
        send(&mut dp, T0, B1, &echo(B1_IP, A1_IP, true, 3)),
        drop(DropReason::NaclInbound)
    );
}

#[test]
fn nacls_are_stateless_replies_need_their_own_rule() {
    let t = two_subnets(
        r#"
[[network_acl]]
name = "web"
vpc = "v"
subnets = ["b"]
ingress = [{ rule_number = 100, protocol = "tcp", action = "allow", cidr = "0.0.0.0/0", port = 22 }]
egress = [
  { rule_number = 100, protocol = "tcp", action = "deny", cidr = "10.1.1.20/32", from_port = 1024, to_port = 65535 },
  { rule_number = 200, protocol = "tcp", action = "allow", cidr = "0.0.0.0/0", from_port = 1024, to_port = 65535 },
]
"#,
    );
    let mut dp = Dataplane::new(&t);
    // a1 -> b1:22, and the reply to a1's ephemeral port: allowed by rule 200.
    assert_eq!(
        send(&mut dp, T0, A1, &tcp(A1_IP, 40000, B1_IP, 22, SYN, 1, 0)),
        fwd(B1)
    );
    assert_eq!(
        send(
            &mut dp,
            T0,
            B1,
            &tcp(B1_IP, 22, A1_IP, 40000, SYN_ACK, 7, 2)
        ),
        fwd(A1)
    );
    // a2's connection gets in, but its reply hits rule 100 first: the tracked flow in
    // b1's security group does not help against the stateless NACL.
    assert_eq!(
        send(&mut dp, T0, A2, &tcp(A2_IP, 40000, B1_IP, 22, SYN, 1, 0)),
        fwd(B1)
    );
    assert_eq!(
        send(
            &mut dp,
            T0,
            B1,
            &tcp(B1_IP, 22, A2_IP, 40000, SYN_ACK, 7, 2)
        ),
        drop(DropReason::NaclOutbound)
    );
    // Port 23 is not in the inbound rules.
    assert_eq!(
        send(&mut dp, T0, A1, &tcp(A1_IP, 40001, B1_IP, 23, SYN, 1, 0)),
        drop(DropReason::NaclInbound)
    );
}

#[test]
fn several_groups_on_an_eni_are_unioned_and_groups_match_members_private_ips() {
    let t = two_subnets(
        r#"
[[security_group]]
name = "ssh"
vpc = "v"
ingress = [{ protocol = "tcp", port = 22, security_group = "clients" }]

[[security_group]]
name = "web"
vpc = "v"
ingress = [{ protocol = "tcp", port = 80, cidr = "10.1.1.20/32" }]

[[security_group]]
name = "clients"
vpc = "v"
"#,
    )
    .with_groups(&[("a1", &["clients"]), ("b1", &["ssh", "web"])]);
    let mut dp = Dataplane::new(&t);
    assert_eq!(
        send(&mut dp, T0, A1, &tcp(A1_IP, 40000, B1_IP, 22, SYN, 1, 0)),
        fwd(B1)
    );
    // a2 is not in `clients` (it has the default group), but `web` allows it on 80.
    assert_eq!(
        send(&mut dp, T0, A2, &tcp(A2_IP, 40000, B1_IP, 22, SYN, 1, 0)),
        drop(DropReason::SgIngress)
    );
    assert_eq!(
        send(&mut dp, T0, A2, &tcp(A2_IP, 40001, B1_IP, 80, SYN, 1, 0)),
        fwd(B1)
    );
    assert_eq!(
        send(&mut dp, T0, A1, &tcp(A1_IP, 40002, B1_IP, 80, SYN, 1, 0)),
        drop(DropReason::SgIngress)
    );
    // The default group: inbound only from its members. b1 is not one any more.
    assert_eq!(
        send(&mut dp, T0, B1, &echo(B1_IP, A2_IP, true, 1)),
        drop(DropReason::SgIngress)
    );
}

/// Test support: set instances' security groups by name after parsing.
trait WithGroups {
    fn with_groups(self, groups: &[(&str, &[&str])]) -> Topology;
}

impl WithGroups for Topology {
    fn with_groups(mut self, groups: &[(&str, &[&str])]) -> Topology {
        for (instance, names) in groups {
            let eni = self.find_eni(instance).unwrap();
            let ids = names
                .iter()
                .map(|n| {
                    let i = self
                        .security_groups
                        .iter()
                        .position(|g| g.name == *n)
                        .unwrap();
                    vpc_config::SecurityGroupId(i as u32)
                })
                .collect();
            self.enis[eni.index()].security_groups = ids;
        }
        self
    }
}

#[test]
fn untracked_flows_stop_when_their_rule_goes_tracked_flows_keep_running() {
    // web-sg: tcp 80 from 0.0.0.0/0 (untracked: egress allows everything to
    // 0.0.0.0/0), tcp 22 from 10.0.0.0/16 (tracked).
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    assert_eq!(
        send(&mut dp, T0, APP, &tcp(APP_IP, 40000, WEB_IP, 80, SYN, 1, 0)),
        fwd(WEB)
    );
    assert_eq!(
        send(&mut dp, T0, APP, &tcp(APP_IP, 40001, WEB_IP, 22, SYN, 1, 0)),
        fwd(WEB)
    );
    assert!(
        !dp.flows(WEB, T0).any(|f| f.dst_port == 80),
        "port 80 is untracked"
    );
    assert!(dp.flows(WEB, T0).any(|f| f.dst_port == 22));
    for (port, seq) in [(40000u16, 900u32), (40001, 900)] {
        let dport = if port == 40000 { 80 } else { 22 };
        assert_eq!(
            send(
                &mut dp,
                T0,
                WEB,
                &tcp(WEB_IP, dport, APP_IP, port, SYN_ACK, seq, 2)
            ),
            fwd(APP)
        );
    }
    // Remove both rules from web-sg.
    let mut changed = t.clone();
    let web_sg = changed.enis[WEB.index()].security_groups[0];
    changed.security_groups[web_sg.index()]
        .ingress
        .retain(|r| r.protocol == vpc_config::Protocol::ICMP);
    dp.apply(&changed, T0);
    let t1 = T0 + Duration::from_secs(1);
    // The untracked connection is cut at once; the tracked one goes on.
    assert_eq!(
        send(
            &mut dp,
            t1,
            APP,
            &tcp(APP_IP, 40000, WEB_IP, 80, ACK, 2, 901)
        ),
        drop(DropReason::SgIngress)
    );
    assert_eq!(
        send(
            &mut dp,
            t1,
            APP,
            &tcp(APP_IP, 40001, WEB_IP, 22, ACK, 2, 901)
        ),
        fwd(WEB)
    );
    assert_eq!(
        send(
            &mut dp,
            t1,
            APP,
            &tcp(APP_IP, 40001, WEB_IP, 22, PSH_ACK, 2, 901)
        ),
        fwd(WEB)
    );
    // New connections to 22 are refused.
    assert_eq!(
        send(&mut dp, t1, APP, &tcp(APP_IP, 40002, WEB_IP, 22, SYN, 1, 0)),
        drop(DropReason::SgIngress)
    );
}

#[test]
fn a_nacl_change_applies_to_the_next_packet_of_a_tracked_flow() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    assert_eq!(
        send(
            &mut dp,
            T0,
            APP,
            &tcp(APP_IP, 40000, DB_IP, 5432, SYN, 1, 0)
        ),
        fwd(DB)
    );
    assert_eq!(
        send(
            &mut dp,
            T0,
            DB,
            &tcp(DB_IP, 5432, APP_IP, 40000, SYN_ACK, 9, 2)
        ),
        fwd(APP)
    );
    // A packet the flow cache knows the NACLs allow.
    assert_eq!(
        send(
            &mut dp,
            T0,
            APP,
            &tcp(APP_IP, 40000, DB_IP, 5432, ACK, 2, 10)
        ),
        fwd(DB)
    );
    let mut changed = t.clone();
    let nacl = changed.subnets[3].network_acl;
    changed.network_acls[nacl.index()].ingress[0].cidr = "10.0.2.0/24".parse().unwrap();
    dp.apply(&changed, T0);
    assert_eq!(
        send(
            &mut dp,
            T0,
            APP,
            &tcp(APP_IP, 40000, DB_IP, 5432, ACK, 2, 10)
        ),
        drop(DropReason::NaclInbound)
    );
}

#[test]
fn a_one_way_udp_flow_expires_after_30_s_and_its_late_reply_is_judged_by_the_rules() {
    let t = dns_server();
    let mut dp = Dataplane::new(&t);
    assert_eq!(send(&mut dp, T0, A1, &udp(A1_IP, 5000, B1_IP, 53)), fwd(B1));
    // A reply within the timeout passes. One request and its reply keep 30 s (AWS's
    // `udpTimeout` covers a single request-response transaction)...
    let t29 = T0 + Duration::from_secs(29);
    assert_eq!(
        send(&mut dp, t29, B1, &udp(B1_IP, 53, A1_IP, 5000)),
        fwd(A1)
    );
    let expires = |dp: &Dataplane, now| {
        dp.flows(A1, now)
            .find(|f| f.src_port == 5000)
            .map(|f| (f.state, f.expires_in.as_secs()))
    };
    assert_eq!(expires(&dp, t29), Some(("replied", 30)));
    // ... and the second request makes it a stream: 180 s.
    let t30 = t29 + Duration::from_secs(1);
    assert_eq!(
        send(&mut dp, t30, A1, &udp(A1_IP, 5000, B1_IP, 53)),
        fwd(B1)
    );
    assert_eq!(expires(&dp, t30), Some(("stream", 180)));
    let t209 = t30 + Duration::from_secs(179);
    assert_eq!(
        send(&mut dp, t209, B1, &udp(B1_IP, 53, A1_IP, 5000)),
        fwd(A1)
    );
    // A second one-way flow: its reply after 31 s finds no flow in a1's table, and
    // a1's default group allows nothing from b1.
    assert_eq!(send(&mut dp, T0, A1, &udp(A1_IP, 5001, B1_IP, 53)), fwd(B1));
    let t31 = T0 + Duration::from_secs(31);
    assert!(dp.expire(t31) >= 1);
    assert_eq!(
        send(&mut dp, t31, B1, &udp(B1_IP, 53, A1_IP, 5001)),
        drop(DropReason::SgIngress)
    );
}

#[test]
fn per_eni_timeouts_from_the_configuration_are_used() {
    let mut t = dns_server();
    t.enis[A1.index()].conntrack.udp = 60;
    let mut dp = Dataplane::new(&t);
    assert_eq!(send(&mut dp, T0, A1, &udp(A1_IP, 5000, B1_IP, 53)), fwd(B1));
    let t45 = T0 + Duration::from_secs(45);
    // b1's own table (30 s) has forgotten the flow, so b1's reply is judged by b1's
    // egress rules (all allowed) and arrives at a1, which still tracks it (60 s).
    assert_eq!(
        send(&mut dp, t45, B1, &udp(B1_IP, 53, A1_IP, 5000)),
        fwd(A1)
    );
}

#[test]
fn an_icmp_error_about_a_tracked_flow_is_related_and_one_about_nothing_is_judged_by_the_rules() {
    let t = dns_server();
    let mut dp = Dataplane::new(&t);
    let query = udp(A1_IP, 5000, B1_IP, 53);
    assert_eq!(send(&mut dp, T0, A1, &query), fwd(B1));
    // b1 has nothing on port 53: its port unreachable quotes a1's datagram.
    assert_eq!(
        send(&mut dp, T0, B1, &port_unreachable(B1_IP, A1_IP, &query)),
        fwd(A1)
    );
    // About no flow a1 tracks: a1's default group allows nothing from b1 (not a
    // member), so it is dropped, under its own reason.
    let unknown = udp(A1_IP, 5999, B1_IP, 53);
    let before = dp.counters().clone();
    assert_eq!(
        send(&mut dp, T0, B1, &port_unreachable(B1_IP, A1_IP, &unknown)),
        drop(DropReason::IcmpErrorNoFlow)
    );
    assert_eq!(
        drop_delta(&before, dp.counters()),
        ["icmp-error-no-flow +1"]
    );
}

/// [`two_subnets`] whose default group allows everything both ways: every TCP and UDP
/// flow is untracked.
fn all_open() -> Topology {
    two_subnets(
        r#"
[[security_group]]
name = "default"
vpc = "v"
ingress = [{ protocol = "all", cidr = "0.0.0.0/0" }]
"#,
    )
}

#[test]
fn an_icmp_error_about_an_untracked_flow_is_allowed_by_the_rules() {
    // AWS: the responses of untracked flows are judged by the rules; with groups that
    // allow everything, the port unreachable about an untracked datagram arrives (UDP
    // "connection refused", traceroute, path MTU discovery).
    let t = all_open();
    let mut dp = Dataplane::new(&t);
    let datagram = udp(A1_IP, 5000, B1_IP, 9);
    assert_eq!(send(&mut dp, T0, A1, &datagram), fwd(B1));
    assert_eq!(dp.flows(A1, T0).count(), 0, "untracked");
    assert_eq!(dp.flows(B1, T0).count(), 0, "untracked");
    let before = dp.counters().clone();
    assert_eq!(
        send(&mut dp, T0, B1, &port_unreachable(B1_IP, A1_IP, &datagram)),
        fwd(A1)
    );
    assert_eq!(drop_delta(&before, dp.counters()), Vec::<String>::new());
    // It is never a flow of its own.
    assert_eq!(dp.flows(A1, T0).count() + dp.flows(B1, T0).count(), 0);
}

#[test]
fn narrowing_a_rule_keeps_a_connection_the_new_rules_still_allow() {
    // b1 runs SSH open to 0.0.0.0/0 with all egress: untracked.
    let ssh = |ingress: &str, egress: &str| {
        two_subnets(&format!(
            r#"
[[security_group]]
name = "ssh"
vpc = "v"
ingress = [{{ protocol = "tcp", port = 22, cidr = "{ingress}" }}]
{egress}
"#
        ))
        .with_groups(&[("b1", &["ssh"])])
    };
    let open = ssh("0.0.0.0/0", "");
    let c = |flags, seq, ack| tcp(A1_IP, 40000, B1_IP, 22, flags, seq, ack);
    let s = |flags, seq, ack| tcp(B1_IP, 22, A1_IP, 40000, flags, seq, ack);
    let t1 = T0 + Duration::from_secs(1);
    for narrowed in [
        // The rule narrowed to the VPC's CIDR, which holds the client.
        ssh("10.1.0.0/16", ""),
        // The open egress rule removed: the flow turns tracked.
        ssh("0.0.0.0/0", "egress = []"),
    ] {
        let mut dp = Dataplane::new(&open);
        assert_eq!(send(&mut dp, T0, A1, &c(SYN, 1000, 0)), fwd(B1));
        assert_eq!(send(&mut dp, T0, B1, &s(SYN_ACK, 5000, 1001)), fwd(A1));
        assert_eq!(send(&mut dp, T0, A1, &c(ACK, 1001, 5001)), fwd(B1));
        assert_eq!(dp.flows(B1, T0).count(), 0, "untracked before the change");
        dp.apply(&narrowed, T0);
        let before = dp.counters().clone();
        // The next segments each way: picked up mid-stream, tracked from now on.
        assert_eq!(send(&mut dp, t1, A1, &c(PSH_ACK, 1001, 5001)), fwd(B1));
        assert_eq!(send(&mut dp, t1, B1, &s(PSH_ACK, 5001, 1001)), fwd(A1));
        assert_eq!(send(&mut dp, t1, A1, &c(ACK, 1001, 5001)), fwd(B1));
        assert_eq!(drop_delta(&before, dp.counters()), Vec::<String>::new());
        let flows: Vec<_> = dp.flows(B1, t1).map(|f| (f.src_port, f.state)).collect();
        assert_eq!(flows, [(40000, "established")]);
    }
    // Narrowed so that the client is no longer permitted: cut at once.
    let mut dp = Dataplane::new(&open);
    assert_eq!(send(&mut dp, T0, A1, &c(SYN, 1000, 0)), fwd(B1));
    assert_eq!(send(&mut dp, T0, B1, &s(SYN_ACK, 5000, 1001)), fwd(A1));
    dp.apply(&ssh("10.1.2.0/24", ""), T0);
    assert_eq!(
        send(&mut dp, t1, A1, &c(ACK, 1001, 5001)),
        drop(DropReason::SgIngress)
    );
}

#[test]
fn a_connection_idle_past_its_established_timeout_goes_on_if_the_rules_allow_it() {
    // db-sg allows tcp 5432 from app-sg (tracked); db's connections idle out after 60 s.
    let mut t = Topology::demo();
    t.enis[DB.index()].conntrack.tcp_established = 60;
    let mut dp = Dataplane::new(&t);
    let c = |flags, seq, ack| tcp(APP_IP, 40000, DB_IP, 5432, flags, seq, ack);
    let s = |flags, seq, ack| tcp(DB_IP, 5432, APP_IP, 40000, flags, seq, ack);
    assert_eq!(send(&mut dp, T0, APP, &c(SYN, 1000, 0)), fwd(DB));
    assert_eq!(send(&mut dp, T0, DB, &s(SYN_ACK, 5000, 1001)), fwd(APP));
    assert_eq!(send(&mut dp, T0, APP, &c(ACK, 1001, 5001)), fwd(DB));
    let t61 = T0 + Duration::from_secs(61);
    assert!(dp.expire(t61) >= 1);
    assert_eq!(dp.flows(DB, t61).count(), 0);
    // app's next segment: db's rules allow it, so db picks the connection up again.
    assert_eq!(send(&mut dp, t61, APP, &c(PSH_ACK, 1001, 5001)), fwd(DB));
    assert_eq!(send(&mut dp, t61, DB, &s(ACK, 5001, 1001)), fwd(APP));
    assert_eq!(
        dp.flows(DB, t61).map(|f| f.state).collect::<Vec<_>>(),
        ["established"]
    );
}

#[test]
fn a_full_connection_table_refuses_new_flows_and_keeps_every_tracked_one() {
    let t = Topology::demo();
    let limits = Limits {
        conntrack_per_eni: 2,
        ..Limits::default()
    };
    let mut dp = Dataplane::with_limits(&t, limits, T0);
    // A replied ping and an unanswered one fill web's table.
    for id in [1, 2] {
        assert_eq!(
            send(&mut dp, T0, WEB, &echo(WEB_IP, APP_IP, true, id)),
            fwd(APP)
        );
    }
    assert_eq!(
        send(&mut dp, T0, APP, &echo(APP_IP, WEB_IP, false, 1)),
        fwd(WEB)
    );
    let before = dp.counters().clone();
    assert_eq!(
        send(&mut dp, T0, WEB, &echo(WEB_IP, APP_IP, true, 3)),
        drop(DropReason::ConntrackFull)
    );
    assert_eq!(drop_delta(&before, dp.counters()), ["conntrack-full +1"]);
    // AWS: "a new connection cannot be established"; the tracked ones go on, the
    // unanswered one included (its late reply still arrives).
    assert_eq!(
        send(&mut dp, T0, APP, &echo(APP_IP, WEB_IP, false, 2)),
        fwd(WEB)
    );
    assert_eq!(
        send(&mut dp, T0, WEB, &echo(WEB_IP, APP_IP, true, 1)),
        fwd(APP)
    );
    assert_eq!(dp.conntrack_stats(WEB).0.inserted, 2);
}

#[test]
fn flow_logs_record_each_enis_view_accept_and_reject() {
    // AWS's example: a ping the security group accepts whose reply the NACL denies
    // logs ACCEPT (the request, inbound) and REJECT (the reply, outbound).
    let t = two_subnets(
        r#"
[[security_group]]
name = "pingable"
vpc = "v"
ingress = [{ protocol = "icmp", cidr = "0.0.0.0/0" }]

[[network_acl]]
name = "in-only"
vpc = "v"
subnets = ["b"]
ingress = [{ rule_number = 100, protocol = "all", action = "allow", cidr = "0.0.0.0/0" }]

[[flow_log]]
name = "b1-log"
network_interface = "b1/eth0"
log_destination = "b1.log"
max_aggregation_interval = 60
"#,
    )
    .with_groups(&[("b1", &["pingable"])]);
    let mut dp = Dataplane::with_limits(&t, Limits::default(), T0);
    assert_eq!(send(&mut dp, T0, A1, &echo(A1_IP, B1_IP, true, 5)), fwd(B1));
    let t1 = T0 + Duration::from_secs(1);
    assert_eq!(
        send(&mut dp, t1, B1, &echo(B1_IP, A1_IP, false, 5)),
        drop(DropReason::NaclOutbound)
    );
    let mut out: Vec<FlowRecord> = Vec::new();
    dp.flush_flow_logs(T0 + Duration::from_secs(59), &mut out);
    assert!(out.is_empty(), "nothing before the interval ends");
    dp.flush_flow_logs(T0 + Duration::from_secs(60), &mut out);
    let seen: Vec<(Ipv4Addr, Ipv4Addr, Action, Direction, LogStatus, u64)> = out
        .iter()
        .map(|r| (r.src, r.dst, r.action, r.direction, r.status, r.packets))
        .collect();
    let (a1, b1) = (Ipv4Addr::from(A1_IP), Ipv4Addr::from(B1_IP));
    assert_eq!(
        seen,
        [
            (a1, b1, Action::Accept, Direction::Ingress, LogStatus::Ok, 1),
            (b1, a1, Action::Reject, Direction::Egress, LogStatus::Ok, 1),
        ]
    );
}

#[test]
fn trace_names_the_nacl_rule_and_changes_nothing() {
    let t = Topology::demo();
    let dp = Dataplane::new(&t);
    let before = dp.counters().clone();
    let walked = dp.trace(T0, WEB, Ipv4Addr::from(DB_IP), Probe::Tcp(5432));
    assert_eq!(walked.verdict, drop(DropReason::NaclInbound));
    let d = trace::describe(&t, &walked);
    let stages: Vec<&str> = d.steps.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        stages,
        [
            "route",
            "deliver",
            "sg egress web/eth0",
            "nacl outbound public-a",
            "nacl inbound private-b"
        ]
    );
    assert_eq!(
        d.steps[4].1,
        "network ACL private-b-nacl rule 100: deny all traffic from 10.0.1.0/24"
    );
    assert_eq!(
        d.because,
        "network ACL private-b-nacl (inbound of subnet private-b) rule 100 denies it"
    );
    assert_eq!(d.verdict, "DROP nacl-inbound");
    assert_eq!(dp.counters(), &before);
    assert_eq!(dp.flows(WEB, T0).count(), 0, "a trace tracks nothing");

    // app -> db: allowed by db-sg rule 1 from members of app-sg.
    let walked = dp.trace(T0, APP, Ipv4Addr::from(DB_IP), Probe::Tcp(5432));
    assert_eq!(walked.verdict, fwd(DB));
    let d = trace::describe(&t, &walked);
    assert_eq!(
        d.steps.last().unwrap().1,
        "allowed by db-sg ingress rule 1: tcp 5432 from members of app-sg (tracked)"
    );
    assert_eq!(d.because, "");
    // app pings db: no ingress rule of db-sg.
    let walked = dp.trace(T0, APP, Ipv4Addr::from(DB_IP), Probe::Icmp);
    let d = trace::describe(&t, &walked);
    assert_eq!(d.verdict, "DROP sg-ingress");
    assert_eq!(d.because, "no ingress rule of db/eth0 (db-sg) allows it");
    // The router answers its own address.
    let walked = dp.trace(T0, APP, Ipv4Addr::new(10, 0, 2, 1), Probe::Icmp);
    assert_eq!(
        trace::describe(&t, &walked).verdict,
        "REPLY from the VPC router"
    );
}

#[test]
fn tcp_through_the_pipeline_closes_and_rejects_out_of_window_data() {
    let t = Topology::demo();
    let mut dp = Dataplane::new(&t);
    let c = |flags, seq, ack| tcp(APP_IP, 40000, DB_IP, 5432, flags, seq, ack);
    let s = |flags, seq, ack| tcp(DB_IP, 5432, APP_IP, 40000, flags, seq, ack);
    assert_eq!(send(&mut dp, T0, APP, &c(SYN, 1000, 0)), fwd(DB));
    assert_eq!(send(&mut dp, T0, DB, &s(SYN_ACK, 5000, 1001)), fwd(APP));
    assert_eq!(send(&mut dp, T0, APP, &c(ACK, 1001, 5001)), fwd(DB));
    // Far outside the window: invalid, and the connection stays established.
    assert_eq!(
        send(&mut dp, T0, APP, &c(ACK, 1001 + 0x4000_0000, 5001)),
        drop(DropReason::TcpOutOfWindow)
    );
    assert_eq!(send(&mut dp, T0, APP, &c(ACK, 1001, 5001)), fwd(DB));
    assert_eq!(send(&mut dp, T0, APP, &c(FIN_ACK, 1001, 5001)), fwd(DB));
    assert_eq!(send(&mut dp, T0, DB, &s(FIN_ACK, 5001, 1002)), fwd(APP));
    assert_eq!(send(&mut dp, T0, APP, &c(ACK, 1002, 5002)), fwd(DB));
}

#[test]
fn a_middleboxs_flow_log_shows_its_own_address_and_the_packets() {
    // a1's subnet sends b's traffic through fw (subnet c, check off). fw's records:
    // srcaddr (egress) and dstaddr (ingress) are fw's address, pkt-* the packet's.
    let t = two_subnets(
        r#"
[[subnet]]
name = "c"
vpc = "v"
cidr = "10.1.3.0/24"
az = "x"

[[instance]]
name = "fw"
subnet = "c"
private_ip = "10.1.3.10"
source_dest_check = false

[[route_table]]
name = "via-fw"
vpc = "v"
subnets = ["a"]
route = [{ destination = "10.1.2.0/24", instance = "fw" }]

[[flow_log]]
name = "fw"
network_interface = "fw/eth0"
log_destination = "fw.log"
log_format = "${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${traffic-path}"
max_aggregation_interval = 60
"#,
    );
    let fw = t.find_eni("fw").unwrap();
    let mut dp = Dataplane::with_limits(&t, Limits::default(), T0);
    let ping = echo(A1_IP, B1_IP, true, 3);
    assert_eq!(send(&mut dp, T0, A1, &ping), fwd(fw));
    assert_eq!(send(&mut dp, T0, fw, &ping), fwd(B1));
    let mut out = Vec::new();
    dp.flush_all_flow_logs(T0 + Duration::from_secs(1), &mut out);
    let lines: Vec<String> = out
        .iter()
        .map(|r| crate::flowlog::format_record(&t, &t.flow_logs[0], r, |_| 0))
        .collect();
    assert_eq!(
        lines,
        [
            "eni-fw-eth0 10.1.1.10 10.1.3.10 10.1.1.10 10.1.2.10 ingress -",
            "eni-fw-eth0 10.1.3.10 10.1.2.10 10.1.1.10 10.1.2.10 egress 1",
        ]
    );
}
