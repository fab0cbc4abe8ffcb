//! What the resolver knows, as seen from one VPC: the records at a name, or that the
//! name does not exist, and the zone whose SOA goes with a negative answer.
//!
//! Sources, in the order they are consulted:
//! 1. Route 53 private hosted zones associated with the VPC (only when the VPC has
//!    both `enableDnsSupport` and `enableDnsHostnames`, as AWS requires): the most
//!    specific zone containing the name is authoritative for it, so a name in its
//!    domain without records is NXDOMAIN and nothing else is consulted.
//! 2. Names AWS gives: the private DNS names of the VPC's network interfaces (A, and
//!    PTR of their private addresses), the public DNS names of interfaces with a
//!    public address in VPCs with `enableDnsHostnames` (A: the private address from
//!    the same VPC, the public one from elsewhere; PTR of the public address).
//! 3. The emulated internet's hosts: their name if it has a dot, and their
//!    `dns_names` (A, and PTR to the first of them).
//! 4. Names added by [`super::Resolver::with_names`] (the emulated AWS services).

use std::net::Ipv4Addr;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, TXT};
use hickory_proto::rr::{Name, RData, RecordType};
use vpc_config::{
    DnsRecordType, PrivateHostedZone, RecordSet, RecordValue, VpcId, canonical_domain, in_domain,
    private_domain,
};
use vpc_ec2::actions::{private_dns, public_dns};

use super::{AWS_NAMES_TTL, Resolver};

/// One record at a name: its type, TTL and data.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub rtype: RecordType,
    pub ttl: u32,
    pub data: RData,
}

/// The zone a name falls in, for the SOA of a negative answer.
#[derive(Debug, Clone)]
pub(crate) enum Zone<'t> {
    /// A private hosted zone: Route 53's SOA.
    Hosted(&'t PrivateHostedZone),
    /// A domain vpcd synthesises (the VPC's private domain, `in-addr.arpa`, or the
    /// root for everything else).
    Synthetic(String),
}

/// What the resolver knows of one name.
#[derive(Debug, Clone)]
pub(crate) struct Node<'t> {
    /// Its zone.
    pub zone: Zone<'t>,
    /// `None`: the name does not exist (NXDOMAIN). `Some`: it exists, with these
    /// records (empty: it exists only because names below it do).
    pub records: Option<Vec<Rec>>,
}

/// Route 53's SOA of every hosted zone, as it shows it: primary server, contact,
/// serial, refresh, retry, expire, minimum, and the record's TTL.
const ROUTE53_SOA: (&str, &str, u32, i32, i32, i32, u32, u32) = (
    "ns-1536.awsdns-00.co.uk.",
    "awsdns-hostmaster.amazon.com.",
    1,
    7200,
    900,
    1_209_600,
    86_400,
    900,
);

/// Route 53's name servers of a hosted zone, and their TTL.
const ROUTE53_NS: ([&str; 4], u32) = (
    [
        "ns-1536.awsdns-00.co.uk.",
        "ns-0.awsdns-00.com.",
        "ns-1024.awsdns-00.org.",
        "ns-512.awsdns-00.net.",
    ],
    172_800,
);

/// The reverse-lookup name of `ip`: `10.1.0.10.in-addr.arpa` for 10.0.1.10.
pub(crate) fn reverse_name(ip: Ipv4Addr) -> String {
    let [a, b, c, d] = ip.octets();
    format!("{d}.{c}.{b}.{a}.in-addr.arpa")
}

/// A name from a canonical string (which is always a valid name).
pub(crate) fn name(s: &str) -> Name {
    Name::from_ascii(format!("{s}.")).unwrap_or_else(|_| Name::root())
}

impl<'t> Zone<'t> {
    /// The SOA record of the zone: owner, TTL, data.
    pub(crate) fn soa(&self) -> (Name, u32, RData) {
        let (mname, rname, serial, refresh, retry, expire, minimum, ttl) = ROUTE53_SOA;
        let (owner, minimum, ttl) = match self {
            Zone::Hosted(z) => (name(&z.name), minimum, ttl),
            Zone::Synthetic(apex) if apex.is_empty() => {
                (Name::root(), AWS_NAMES_TTL, AWS_NAMES_TTL)
            }
            Zone::Synthetic(apex) => (name(apex), AWS_NAMES_TTL, AWS_NAMES_TTL),
        };
        let soa = SOA::new(
            Name::from_ascii(mname).unwrap_or_else(|_| Name::root()),
            Name::from_ascii(rname).unwrap_or_else(|_| Name::root()),
            serial,
            refresh,
            retry,
            expire,
            minimum,
        );
        (owner, ttl, RData::SOA(soa))
    }
}

/// The records of record set `r`.
fn record_set(r: &RecordSet) -> impl Iterator<Item = Rec> + '_ {
    r.values.iter().map(move |v| {
        let data = match v {
            RecordValue::A(a) => RData::A(A(*a)),
            RecordValue::Aaaa(a) => RData::AAAA(AAAA(*a)),
            RecordValue::Cname(n) => RData::CNAME(CNAME(name(n))),
            RecordValue::Mx {
                preference,
                exchange,
            } => RData::MX(MX::new(*preference, name(exchange))),
            RecordValue::Txt(s) => RData::TXT(TXT::new(vec![s.clone()])),
        };
        Rec {
            rtype: record_type(r.record_type),
            ttl: r.ttl,
            data,
        }
    })
}

/// hickory's type of a hosted zone's record type.
fn record_type(t: DnsRecordType) -> RecordType {
    match t {
        DnsRecordType::A => RecordType::A,
        DnsRecordType::Aaaa => RecordType::AAAA,
        DnsRecordType::Cname => RecordType::CNAME,
        DnsRecordType::Mx => RecordType::MX,
        DnsRecordType::Txt => RecordType::TXT,
    }
}

/// An A record with the TTL of AWS's own names.
fn a(ip: Ipv4Addr) -> Rec {
    Rec {
        rtype: RecordType::A,
        ttl: AWS_NAMES_TTL,
        data: RData::A(A(ip)),
    }
}

/// A PTR record with the TTL of AWS's own names.
fn ptr(target: &str) -> Rec {
    Rec {
        rtype: RecordType::PTR,
        ttl: AWS_NAMES_TTL,
        data: RData::PTR(PTR(name(target))),
    }
}

impl<'t> Resolver<'t> {
    /// The private hosted zone that answers for `qname` in `vpc`, if any: the most
    /// specific zone associated with the VPC whose domain contains the name.
    pub(crate) fn hosted_zone(&self, vpc: VpcId, qname: &str) -> Option<&'t PrivateHostedZone> {
        let v = self.t.vpc(vpc);
        if !(v.enable_dns_support && v.enable_dns_hostnames) {
            return None;
        }
        self.t
            .private_hosted_zones
            .iter()
            .filter(|z| z.vpcs.contains(&vpc) && in_domain(qname, &z.name))
            .max_by_key(|z| z.name.len())
    }

    /// What VPC `vpc`'s resolver knows of canonical name `qname`; with `None`, what
    /// the emulated internet's resolver knows (public names only).
    pub(crate) fn node(&self, vpc: Option<VpcId>, qname: &str) -> Node<'t> {
        if let Some(z) = vpc.and_then(|v| self.hosted_zone(v, qname)) {
            return hosted_node(z, qname);
        }
        let t = self.t;
        let region = vpc.map(|v| t.vpc(v).region.as_str());
        let mut records = Vec::new();
        for e in t.eni_ids() {
            let eni = t.eni(e);
            let home = t.eni_vpc(e);
            if let Some(region) = region.filter(|_| Some(home) == vpc) {
                let private = private_dns(region, eni.private_ip);
                if private == qname {
                    records.push(a(eni.private_ip));
                }
                if reverse_name(eni.private_ip) == qname {
                    records.push(ptr(&private));
                }
            }
            let owner = t.vpc(home);
            let Some(public) = t.eni_public_ip(e).filter(|_| owner.enable_dns_hostnames) else {
                continue;
            };
            let public_name = public_dns(&owner.region, public);
            if public_name == qname {
                records.push(a(if Some(home) == vpc {
                    eni.private_ip
                } else {
                    public
                }));
            }
            if reverse_name(public) == qname {
                records.push(ptr(&public_name));
            }
        }
        for h in &t.internet_hosts {
            let own = canonical_domain(&h.name).filter(|n| n.contains('.'));
            let mut names = own.iter().chain(&h.dns_names);
            if names.clone().any(|n| n == qname) {
                records.push(a(h.address));
            }
            if reverse_name(h.address) == qname
                && let Some(first) = names.next()
            {
                records.push(ptr(first));
            }
        }
        for x in &self.extra {
            if x.name == qname && x.seen_from.is_none_or(|v| Some(v) == vpc) {
                records.push(a(x.address));
            }
        }
        let domain = region.map(private_domain);
        let apex = if let Some(domain) = domain.filter(|d| in_domain(qname, d)) {
            domain
        } else if in_domain(qname, "in-addr.arpa") {
            "in-addr.arpa".to_owned()
        } else {
            String::new()
        };
        Node {
            zone: Zone::Synthetic(apex),
            records: (!records.is_empty()).then_some(records),
        }
    }
}

/// A name of hosted zone `z`: its records (the SOA and NS at the apex too), or that it
/// exists only as the parent of other names, or that it does not exist.
fn hosted_node<'t>(z: &'t PrivateHostedZone, qname: &str) -> Node<'t> {
    let zone = Zone::Hosted(z);
    let mut records: Vec<Rec> = z
        .records
        .iter()
        .filter(|r| r.name == qname)
        .flat_map(record_set)
        .collect();
    if qname == z.name {
        let (_, ttl, data) = zone.soa();
        records.push(Rec {
            rtype: RecordType::SOA,
            ttl,
            data,
        });
        let (servers, ttl) = ROUTE53_NS;
        for s in servers {
            records.push(Rec {
                rtype: RecordType::NS,
                ttl,
                data: RData::NS(NS(Name::from_ascii(s).unwrap_or_else(|_| Name::root()))),
            });
        }
    }
    let parent = z.records.iter().any(|r| {
        r.name
            .strip_suffix(qname)
            .is_some_and(|head| head.ends_with('.'))
    });
    let exists = !records.is_empty() || parent;
    Node {
        zone,
        records: exists.then_some(records),
    }
}
