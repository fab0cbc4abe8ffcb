//! The resolver's answers, message by message: queries as literal bytes or built with
//! hickory, answers decoded and compared field by field.

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use vpc_config::{EniId, Topology, VpcId};

use super::*;

/// Two VPCs in us-east-1 (`a` with both DNS attributes, `b` with support only) and a
/// third in eu-west-1 without DNS support; `web` has an Elastic IP, `lone` a public IP
/// in `b`; a private hosted zone and a narrower one inside it for `a`; an internet
/// host with names.
const NET: &str = r#"
[[vpc]]
name = "a"
cidr = "10.0.0.0/16"
enable_dns_hostnames = true

[[vpc]]
name = "b"
cidr = "10.1.0.0/16"
dhcp_options = "corp"

[[vpc]]
name = "c"
cidr = "10.2.0.0/16"
region = "eu-west-1"
enable_dns_support = false

[[subnet]]
name = "a1"
vpc = "a"
cidr = "10.0.1.0/24"
az = "a"

[[subnet]]
name = "b1"
vpc = "b"
cidr = "10.1.1.0/24"
az = "a"

[[subnet]]
name = "c1"
vpc = "c"
cidr = "10.2.1.0/24"
az = "a"

[[instance]]
name = "web"
subnet = "a1"
private_ip = "10.0.1.10"

[[instance]]
name = "lone"
subnet = "b1"
private_ip = "10.1.1.10"
public_ip = "198.51.100.30"

[[instance]]
name = "far"
subnet = "c1"
private_ip = "10.2.1.10"

[[internet_gateway]]
name = "igw-a"
vpc = "a"

[[internet_gateway]]
name = "igw-b"
vpc = "b"

[[elastic_ip]]
address = "198.51.100.10"
instance = "web"

[[internet_host]]
name = "www.example.com"
address = "203.0.113.10"
dns_names = ["example.com"]

[[dhcp_options]]
name = "corp"
domain_name = "corp.example"
domain_name_servers = ["10.1.0.53", "AmazonProvidedDNS"]

[[private_hosted_zone]]
name = "demo.internal"
vpcs = ["a", "b"]
records = [
  { name = "web", type = "A", ttl = 300, values = ["10.0.1.10"] },
  { name = "db.demo.internal.", type = "A", values = ["10.0.12.10"] },
  { name = "www", type = "CNAME", values = ["web.demo.internal"] },
  { name = "ext", type = "CNAME", values = ["www.example.com"] },
  { name = "gone", type = "CNAME", values = ["nothing.demo.internal"] },
  { name = "loop1", type = "CNAME", values = ["loop2.demo.internal"] },
  { name = "loop2", type = "CNAME", values = ["loop1.demo.internal"] },
  { name = "x.deep", type = "TXT", values = ["under an empty non-terminal"] },
  { name = "@", type = "MX", values = ["10 mail.demo.internal"] },
  { name = "big", type = "TXT", values = [
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
  ] },
]

[[private_hosted_zone]]
name = "sub.demo.internal"
vpcs = ["a"]
records = [{ name = "web", type = "A", values = ["10.0.1.99"] }]
"#;

const A: VpcId = VpcId(0);
const B: VpcId = VpcId(1);
const C: VpcId = VpcId(2);

fn net() -> Topology {
    vpc_config::parse(NET, "net.toml").unwrap()
}

/// A query for `name` and `qtype`, ID 0x1234, RD set, without EDNS.
fn query(name: &str, qtype: RecordType) -> Vec<u8> {
    let mut m = Message::new(0x1234, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    m.to_vec().unwrap()
}

fn ask(t: &Topology, vpc: VpcId, name: &str, qtype: RecordType) -> Message {
    let bytes = answer(t, vpc, &query(name, qtype), Transport::Udp).unwrap();
    Message::from_vec(&bytes).unwrap()
}

fn addresses(m: &Message) -> Vec<Ipv4Addr> {
    m.answers
        .iter()
        .filter_map(|r| match r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// The owner name and SOA minimum of the negative answer's authority section.
fn soa_of(m: &Message) -> (String, u32, u32) {
    assert_eq!(m.authorities.len(), 1, "{m:?}");
    let r = &m.authorities[0];
    match &r.data {
        RData::SOA(soa) => (r.name.to_ascii(), r.ttl, soa.minimum),
        other => panic!("not an SOA: {other:?}"),
    }
}

#[test]
fn a_private_name_from_literal_bytes() {
    // ID 0xabcd, RD, one question: ip-10-0-1-10.ec2.internal A IN.
    let mut q = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["ip-10-0-1-10", "ec2", "internal"] {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    let t = net();
    let out = answer(&t, A, &q, Transport::Udp).unwrap();
    // Header: same ID, QR RD RA, NOERROR, 1 question, 1 answer.
    assert_eq!(out[..12], [0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    // The question echoed.
    assert_eq!(out[12..q.len()], q[12..]);
    // The answer: a pointer to the question's name, A IN, TTL 60, 10.0.1.10.
    assert_eq!(
        out[q.len()..],
        [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 1, 10]
    );
}

#[test]
fn private_names_resolve_in_their_own_vpc_only() {
    let t = net();
    let m = ask(&t, A, "IP-10-0-1-10.EC2.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&m), [ip("10.0.1.10")]);
    // The owner is the question's name, as asked.
    assert_eq!(m.answers[0].name.to_ascii(), "IP-10-0-1-10.EC2.internal.");
    assert!(m.metadata.recursion_available && m.metadata.recursion_desired);
    assert!(!m.metadata.authoritative);
    // From VPC b the name is unknown; so is an address no interface has.
    let m = ask(&t, B, "ip-10-0-1-10.ec2.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(soa_of(&m), ("ec2.internal.".to_owned(), 60, 60));
    let m = ask(&t, A, "ip-10-0-1-11.ec2.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
}

#[test]
fn ptr_of_private_and_public_addresses() {
    let t = net();
    let m = ask(&t, A, "10.1.0.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    match &m.answers[0].data {
        RData::PTR(p) => assert_eq!(p.0.to_ascii(), "ip-10-0-1-10.ec2.internal."),
        other => panic!("{other:?}"),
    }
    let m = ask(&t, B, "10.100.51.198.in-addr.arpa.", RecordType::PTR);
    match &m.answers[0].data {
        RData::PTR(p) => assert_eq!(p.0.to_ascii(), "ec2-198-51-100-10.compute-1.amazonaws.com."),
        other => panic!("{other:?}"),
    }
    let m = ask(&t, A, "99.1.0.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(soa_of(&m).0, "in-addr.arpa.");
}

#[test]
fn public_names_give_the_private_address_inside_and_the_public_one_outside() {
    let t = net();
    let name = "ec2-198-51-100-10.compute-1.amazonaws.com.";
    assert_eq!(
        addresses(&ask(&t, A, name, RecordType::A)),
        [ip("10.0.1.10")]
    );
    assert_eq!(
        addresses(&ask(&t, B, name, RecordType::A)),
        [ip("198.51.100.10")]
    );
    // VPC b has no enable_dns_hostnames: its instance gets no public name.
    let m = ask(
        &t,
        A,
        "ec2-198-51-100-30.compute-1.amazonaws.com.",
        RecordType::A,
    );
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(soa_of(&m).0, ".");
}

#[test]
fn hosted_zone_records_nxdomain_and_the_most_specific_zone() {
    let t = net();
    let m = ask(&t, A, "web.demo.internal.", RecordType::A);
    assert_eq!(addresses(&m), [ip("10.0.1.10")]);
    assert_eq!(m.answers[0].ttl, 300);
    assert_eq!(
        addresses(&ask(&t, A, "db.demo.internal.", RecordType::A)),
        [ip("10.0.12.10")]
    );
    // A name of the zone without records: NXDOMAIN with Route 53's SOA.
    let m = ask(&t, A, "nothing.demo.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(soa_of(&m), ("demo.internal.".to_owned(), 900, 86400));
    // The narrower zone answers for its names (VPC a), not the wider one.
    assert_eq!(
        addresses(&ask(&t, A, "web.sub.demo.internal.", RecordType::A)),
        [ip("10.0.1.99")]
    );
    // An empty non-terminal exists: NODATA, not NXDOMAIN.
    let m = ask(&t, A, "deep.demo.internal.", RecordType::TXT);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    // MX at the apex; the apex has Route 53's SOA and name servers.
    let m = ask(&t, A, "demo.internal.", RecordType::MX);
    match &m.answers[0].data {
        RData::MX(mx) => {
            assert_eq!(mx.preference, 10);
            assert_eq!(mx.exchange.to_ascii(), "mail.demo.internal.");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ask(&t, A, "demo.internal.", RecordType::NS).answers.len(),
        4
    ); // TXT, and the SOA at the apex.
    let m = ask(&t, A, "x.deep.demo.internal.", RecordType::TXT);
    match &m.answers[0].data {
        RData::TXT(txt) => assert_eq!(txt.to_string(), "under an empty non-terminal"),
        other => panic!("{other:?}"),
    }
    let m = ask(&t, A, "demo.internal.", RecordType::SOA);
    assert_eq!(m.answers[0].record_type(), RecordType::SOA);
    // ANY: every record of the name (MX and the apex's SOA and NS).
    assert_eq!(
        ask(&t, A, "demo.internal.", RecordType::ANY).answers.len(),
        6
    );
    // The PTR of an internet host's address is its first name.
    let m = ask(&t, A, "10.113.0.203.in-addr.arpa.", RecordType::PTR);
    match &m.answers[0].data {
        RData::PTR(p) => assert_eq!(p.0.to_ascii(), "www.example.com."),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cnames_are_followed_and_loops_are_servfail() {
    let t = net();
    let m = ask(&t, A, "www.demo.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(m.answers.len(), 2);
    assert_eq!(m.answers[0].record_type(), RecordType::CNAME);
    assert_eq!(m.answers[1].name.to_ascii(), "web.demo.internal.");
    assert_eq!(addresses(&m), [ip("10.0.1.10")]);
    // Out of the zone, to an internet host.
    let m = ask(&t, A, "ext.demo.internal.", RecordType::A);
    assert_eq!(addresses(&m), [ip("203.0.113.10")]);
    // To nothing: the CNAME and NXDOMAIN (RFC 6604).
    let m = ask(&t, A, "gone.demo.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(m.answers.len(), 1);
    // A CNAME asked for itself is not followed.
    let m = ask(&t, A, "www.demo.internal.", RecordType::CNAME);
    assert_eq!(m.answers.len(), 1);
    let m = ask(&t, A, "loop1.demo.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(m.answers.is_empty());
}

#[test]
fn other_types_of_existing_names_are_nodata() {
    let t = net();
    for (vpc, name, zone) in [
        (A, "web.demo.internal.", "demo.internal."),
        (A, "ip-10-0-1-10.ec2.internal.", "ec2.internal."),
    ] {
        let m = ask(&t, vpc, name, RecordType::AAAA);
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{name}");
        assert!(m.answers.is_empty());
        assert_eq!(soa_of(&m).0, zone);
    }
}

#[test]
fn unknown_names_are_nxdomain() {
    let t = net();
    let m = ask(&t, A, "nowhere.example.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(m.queries[0].name().to_ascii(), "nowhere.example.");
    assert_eq!(soa_of(&m).0, ".");
}

#[test]
fn internet_hosts_and_added_names_resolve_everywhere() {
    let t = net();
    for name in ["www.example.com.", "example.com."] {
        assert_eq!(
            addresses(&ask(&t, B, name, RecordType::A)),
            [ip("203.0.113.10")]
        );
    }
    let r = Resolver::new(&t)
        .with_names(
            None,
            [("S3.us-east-1.amazonaws.com".to_owned(), ip("192.0.2.50"))],
        )
        .unwrap()
        .with_names(Some(B), [("only-b.example".to_owned(), ip("10.1.0.99"))])
        .unwrap();
    let q = query("s3.us-east-1.amazonaws.com.", RecordType::A);
    let m = Message::from_vec(&r.answer(A, &q, Transport::Udp).unwrap()).unwrap();
    assert_eq!(addresses(&m), [ip("192.0.2.50")]);
    let q = query("only-b.example.", RecordType::A);
    let m = Message::from_vec(&r.answer(A, &q, Transport::Udp).unwrap()).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    let m = Message::from_vec(&r.answer(B, &q, Transport::Udp).unwrap()).unwrap();
    assert_eq!(addresses(&m), [ip("10.1.0.99")]);
    assert_eq!(
        Resolver::new(&t)
            .with_names(None, [("a..b".to_owned(), ip("192.0.2.1"))])
            .unwrap_err(),
        BadName("a..b".to_owned())
    );
}

#[test]
fn the_dns_attributes_gate_what_is_answered() {
    let mut t = net();
    // No enableDnsSupport: no answer at all.
    let q = query("ip-10-2-1-10.eu-west-1.compute.internal.", RecordType::A);
    assert_eq!(answer(&t, C, &q, Transport::Udp), None);
    t.vpcs[2].enable_dns_support = true;
    let m = Message::from_vec(&answer(&t, C, &q, Transport::Udp).unwrap()).unwrap();
    assert_eq!(addresses(&m), [ip("10.2.1.10")]);
    // Private hosted zones need both attributes: VPC b (support only) is associated
    // but gets no answer from the zone.
    let m = ask(&t, B, "web.demo.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(soa_of(&m).0, ".");
    t.vpcs[1].enable_dns_hostnames = true;
    assert_eq!(
        addresses(&ask(&t, B, "web.demo.internal.", RecordType::A)),
        [ip("10.0.1.10")]
    );
    // With enableDnsHostnames on, b's instance gets its public name.
    let m = ask(
        &t,
        A,
        "ec2-198-51-100-30.compute-1.amazonaws.com.",
        RecordType::A,
    );
    assert_eq!(addresses(&m), [ip("198.51.100.30")]);
    // Private names need only enableDnsSupport.
    t.vpcs[0].enable_dns_hostnames = false;
    let m = ask(&t, A, "ip-10-0-1-10.ec2.internal.", RecordType::A);
    assert_eq!(addresses(&m), [ip("10.0.1.10")]);
    let m = ask(&t, A, "web.demo.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
}

#[test]
fn malformed_and_unsupported_queries() {
    let t = net();
    // Shorter than a header, or a response: dropped.
    assert_eq!(answer(&t, A, &[0x12, 0x34, 0x01], Transport::Udp), None);
    let mut response = query("web.demo.internal.", RecordType::A);
    response[2] |= 0x80;
    assert_eq!(answer(&t, A, &response, Transport::Udp), None);
    // A header that claims a question that is not there: FORMERR, ID and RD kept.
    let broken = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w'];
    let out = answer(&t, A, &broken, Transport::Udp).unwrap();
    assert_eq!(out, [0x12, 0x34, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]);
    // No question: FORMERR.
    let none = [0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    let m = Message::from_vec(&answer(&t, A, &none, Transport::Udp).unwrap()).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
    // Opcode STATUS (2): NOTIMP.
    let mut status = query("web.demo.internal.", RecordType::A);
    status[2] = 0x10 | 0x01;
    let out = answer(&t, A, &status, Transport::Udp).unwrap();
    assert_eq!(out[..4], [0x12, 0x34, 0x91, 0x84]);
    // Class CH: REFUSED; AXFR: NOTIMP.
    let mut m = Message::new(7, MessageType::Query, OpCode::Query);
    let mut q = Query::query(Name::from_ascii("version.bind.").unwrap(), RecordType::TXT);
    q.set_query_class(hickory_proto::rr::DNSClass::CH);
    m.add_query(q);
    let out = answer(&t, A, &m.to_vec().unwrap(), Transport::Udp).unwrap();
    let m = Message::from_vec(&out).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    let m = ask(&t, A, "demo.internal.", RecordType::AXFR);
    assert_eq!(m.metadata.response_code, ResponseCode::NotImp);
}

/// The query for `big.demo.internal` TXT (about 530 bytes of answer), with EDNS(0)
/// offering `edns` bytes if given.
fn big_query(edns: Option<u16>) -> Vec<u8> {
    let mut m = Message::new(9, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(
        Name::from_ascii("big.demo.internal.").unwrap(),
        RecordType::TXT,
    ));
    if let Some(size) = edns {
        let mut e = Edns::new();
        e.set_max_payload(size);
        m.set_edns(e);
    }
    m.to_vec().unwrap()
}

#[test]
fn udp_answers_are_truncated_past_512_bytes_or_the_edns_size() {
    let t = net();
    let out = answer(&t, A, &big_query(None), Transport::Udp).unwrap();
    let m = Message::from_vec(&out).unwrap();
    assert!(m.metadata.truncation);
    assert!(m.answers.is_empty());
    assert_eq!(m.queries.len(), 1);
    assert!(out.len() <= 512);
    // Over TCP the whole answer.
    let out = answer(&t, A, &big_query(None), Transport::Tcp).unwrap();
    let m = Message::from_vec(&out).unwrap();
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 5);
    assert!(out.len() > 512);
    // EDNS(0) offering 1232: whole, with the resolver's own OPT.
    let out = answer(&t, A, &big_query(Some(4096)), Transport::Udp).unwrap();
    let m = Message::from_vec(&out).unwrap();
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 5);
    assert_eq!(m.edns.as_ref().unwrap().max_payload(), ADVERTISED_UDP_SIZE);
    // EDNS(0) offering less than 512 counts as 512.
    let out = answer(&t, A, &big_query(Some(100)), Transport::Udp).unwrap();
    let m = Message::from_vec(&out).unwrap();
    assert!(m.metadata.truncation);
    assert!(m.edns.is_some());
}

#[test]
fn an_edns_version_other_than_0_is_badvers() {
    let t = net();
    let mut m = Message::from_vec(&big_query(Some(1232))).unwrap();
    if let Some(e) = m.edns.as_mut() {
        e.set_version(1);
    }
    let out = answer(&t, A, &m.to_vec().unwrap(), Transport::Udp).unwrap();
    let m = Message::from_vec(&out).unwrap();
    // 16, which hickory reads back as BADSIG (they share the number).
    assert_eq!(u16::from(m.metadata.response_code), 16);
}

#[test]
fn resolv_conf_from_the_default_and_a_custom_option_set() {
    let t = net();
    assert_eq!(dns_server(&t, A), ip("10.0.0.2"));
    assert_eq!(
        resolv_conf(&t, EniId(0)),
        "; generated by vpcd from the VPC's DHCP options\n\
         search ec2.internal\n\
         options timeout:2 attempts:5\n\
         nameserver 10.0.0.2\n"
    );
    assert_eq!(
        resolv_conf(&t, EniId(1)),
        "; generated by vpcd from the VPC's DHCP options\n\
         search corp.example\n\
         options timeout:2 attempts:5\n\
         nameserver 10.1.0.53\n\
         nameserver 10.1.0.2\n"
    );
    assert_eq!(
        resolv_conf(&t, EniId(2)),
        "; generated by vpcd from the VPC's DHCP options\n\
         search eu-west-1.compute.internal\n\
         options timeout:2 attempts:5\n\
         nameserver 10.2.0.2\n"
    );
}

#[test]
fn the_demo_resolves_its_hosted_zone_and_aws_names() {
    let t = Topology::demo();
    let demo = VpcId(0);
    for (name, addr) in [
        ("web.demo.internal.", "10.0.1.10"),
        ("app.demo.internal.", "10.0.2.10"),
        ("db.demo.internal.", "10.0.12.10"),
        ("ip-10-0-12-10.local-1.compute.internal.", "10.0.12.10"),
        (
            "ec2-198-51-100-10.local-1.compute.amazonaws.com.",
            "10.0.1.10",
        ),
    ] {
        assert_eq!(
            addresses(&ask(&t, demo, name, RecordType::A)),
            [ip(addr)],
            "{name}"
        );
    }
}

#[test]
fn the_dns_example_answers_as_its_header_says() {
    let text = include_str!("../../../../config/dns.toml");
    let t = vpc_config::parse(text, "dns.toml").unwrap();
    let (corp, lab) = (VpcId(0), VpcId(1));
    let public = "ec2-198-51-100-30.eu-west-1.compute.amazonaws.com.";
    assert_eq!(
        addresses(&ask(&t, corp, public, RecordType::A)),
        [ip("10.30.1.10")]
    );
    assert_eq!(
        addresses(&ask(&t, lab, public, RecordType::A)),
        [ip("198.51.100.30")]
    );
    assert_eq!(
        addresses(&ask(&t, corp, "www.corp.internal.", RecordType::A)),
        [ip("10.30.1.10")]
    );
    assert_eq!(
        addresses(&ask(&t, corp, "primary.db.corp.internal.", RecordType::A)),
        [ip("10.30.1.20")]
    );
    let m = ask(&t, lab, "app.corp.internal.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        addresses(&ask(&t, lab, "example.com.", RecordType::A)),
        [ip("203.0.113.80")]
    );
    assert_eq!(
        resolv_conf(&t, EniId(0)),
        "; generated by vpcd from the VPC's DHCP options\n\
         search corp.example\n\
         options timeout:2 attempts:5\n\
         nameserver 10.30.0.2\n\
         nameserver 10.30.1.53\n"
    );
    assert_eq!(
        resolv_conf(&t, EniId(1)),
        "; generated by vpcd from the VPC's DHCP options\n\
         search ec2.internal\n\
         options timeout:2 attempts:5\n\
         nameserver 10.31.0.2\n"
    );
}

#[test]
fn the_emulated_services_have_their_regional_names() {
    let t = Topology::demo();
    let region = &t.vpcs[0].region;
    let name = format!("s3.{region}.amazonaws.com.");
    assert_eq!(
        addresses(&ask(&t, VpcId(0), &name, RecordType::A)),
        [ip("192.0.2.80")]
    );
    assert_eq!(
        service_names(&t),
        [(format!("s3.{region}.amazonaws.com"), ip("192.0.2.80"))]
    );
    // Another service's name is not known.
    let other = format!("dynamodb.{region}.amazonaws.com.");
    let m = ask(&t, VpcId(0), &other, RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
}

#[test]
fn the_internets_resolver_knows_public_names_only() {
    let t = Topology::demo();
    let ask_public = |name: &str, qtype: RecordType| {
        let bytes = answer_public(&t, &query(name, qtype), Transport::Udp).unwrap();
        Message::from_vec(&bytes).unwrap()
    };
    let public = "ec2-198-51-100-10.local-1.compute.amazonaws.com.";
    assert_eq!(
        addresses(&ask_public(public, RecordType::A)),
        [ip("198.51.100.10")]
    );
    assert_eq!(
        addresses(&ask_public("s3.local-1.amazonaws.com.", RecordType::A)),
        [ip("192.0.2.80")]
    );
    let ptr = ask_public("10.100.51.198.in-addr.arpa.", RecordType::PTR);
    assert_eq!(ptr.answers.len(), 1, "{ptr:?}");
    for private in [
        "ip-10-0-1-10.local-1.compute.internal.",
        "db.demo.internal.",
        "10.1.0.10.in-addr.arpa.",
    ] {
        let m = ask_public(private, RecordType::A);
        assert_eq!(
            m.metadata.response_code,
            ResponseCode::NXDomain,
            "{private}"
        );
    }
}
