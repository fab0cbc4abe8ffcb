//! The validated DNS resources of a topology: DHCP option sets (EC2's `DhcpOptions`,
//! which tell an instance its DNS servers and search domain) and Route 53 private
//! hosted zones with their record sets. The resolver that answers from them is
//! `vpc_services::dns`; the rules they follow are checked in `validate/dns.rs`.
//!
//! Domain names are kept in one canonical form: lowercase ASCII, without the final
//! dot (`web.demo.internal`); DNS compares names without regard to case.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Index of a DHCP option set in [`crate::Topology::dhcp_options`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DhcpOptionsId(pub u32);

impl DhcpOptionsId {
    /// The index into [`crate::Topology::dhcp_options`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The value of `domain_name_servers` that names the VPC's own resolver.
pub const AMAZON_PROVIDED_DNS: &str = "AmazonProvidedDNS";

/// The most values AWS takes for each of `domain_name_servers`, `ntp_servers` and
/// `netbios_name_servers`.
pub const MAX_DHCP_SERVERS: usize = 4;

/// A DHCP option set (`[[dhcp_options]]`, `CreateDhcpOptions`). A VPC uses at most
/// one; a VPC with none gets what AWS's default set gives (its region's private
/// domain name and `AmazonProvidedDNS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpOptions {
    /// Unique name (its `dopt-` ID is derived from it).
    pub name: String,
    /// `domain-name`: one domain, or several separated by spaces (AWS takes several
    /// only in us-east-1; vpcd does not check the region). Canonical form.
    pub domain_name: Option<String>,
    /// `domain-name-servers`, in order, at most [`MAX_DHCP_SERVERS`].
    pub domain_name_servers: Vec<DnsServer>,
    /// `ntp-servers`, at most [`MAX_DHCP_SERVERS`].
    pub ntp_servers: Vec<Ipv4Addr>,
    /// `netbios-name-servers`, at most [`MAX_DHCP_SERVERS`].
    pub netbios_name_servers: Vec<Ipv4Addr>,
    /// `netbios-node-type`: 1, 2, 4 or 8.
    pub netbios_node_type: Option<u8>,
}

/// One of `domain_name_servers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsServer {
    /// `AmazonProvidedDNS`: the VPC's resolver at its primary block's base+2.
    AmazonProvidedDns,
    /// A server's address.
    Address(Ipv4Addr),
}

impl fmt::Display for DnsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsServer::AmazonProvidedDns => f.write_str(AMAZON_PROVIDED_DNS),
            DnsServer::Address(a) => write!(f, "{a}"),
        }
    }
}

/// A Route 53 private hosted zone (`[[private_hosted_zone]]`): authoritative for its
/// domain for the VPCs associated with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateHostedZone {
    /// Its domain, canonical; unique among the zones of the file.
    pub name: String,
    /// The VPCs it is associated with, at least one, in the order written.
    pub vpcs: Vec<crate::VpcId>,
    /// Its record sets, in the order written; (name, type) is unique.
    pub records: Vec<RecordSet>,
}

/// The record types a private hosted zone holds in vpcd.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DnsRecordType {
    /// An IPv4 address.
    A,
    /// An IPv6 address.
    Aaaa,
    /// An alias to another name (alone at its name, never at the zone's apex).
    Cname,
    /// A mail exchanger: preference and host.
    Mx,
    /// Text.
    Txt,
}

impl DnsRecordType {
    /// Every type, in the order of their names.
    pub const ALL: [DnsRecordType; 5] = [
        DnsRecordType::A,
        DnsRecordType::Aaaa,
        DnsRecordType::Cname,
        DnsRecordType::Mx,
        DnsRecordType::Txt,
    ];

    /// Route 53's name of the type (`A`, `AAAA`, `CNAME`, `MX`, `TXT`).
    pub fn name(self) -> &'static str {
        match self {
            DnsRecordType::A => "A",
            DnsRecordType::Aaaa => "AAAA",
            DnsRecordType::Cname => "CNAME",
            DnsRecordType::Mx => "MX",
            DnsRecordType::Txt => "TXT",
        }
    }
}

impl fmt::Display for DnsRecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The TTL of a record set that gives none, in seconds (the Route 53 console's).
pub const DEFAULT_RECORD_TTL: u32 = 300;

/// A record set: every record of one name and type (Route 53's
/// `ResourceRecordSet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSet {
    /// Its fully qualified name, canonical, inside the zone.
    pub name: String,
    /// Its type; every value is of it.
    pub record_type: DnsRecordType,
    /// Seconds, 0 to 2^31-1 (default [`DEFAULT_RECORD_TTL`]).
    pub ttl: u32,
    /// At least one; exactly one for a CNAME.
    pub values: Vec<RecordValue>,
}

/// One value of a record set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordValue {
    /// `A`: an IPv4 address.
    A(Ipv4Addr),
    /// `AAAA`: an IPv6 address.
    Aaaa(Ipv6Addr),
    /// `CNAME`: the canonical name (canonical form).
    Cname(String),
    /// `MX`: `"10 mail.example"`.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The mail host (canonical form).
        exchange: String,
    },
    /// `TXT`: one string of at most 255 bytes.
    Txt(String),
}

impl fmt::Display for RecordValue {
    /// As the file writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordValue::A(a) => write!(f, "{a}"),
            RecordValue::Aaaa(a) => write!(f, "{a}"),
            RecordValue::Cname(n) => f.write_str(n),
            RecordValue::Mx {
                preference,
                exchange,
            } => write!(f, "{preference} {exchange}"),
            RecordValue::Txt(s) => f.write_str(s),
        }
    }
}

/// A domain name in canonical form (lowercase, no final dot), if `name` is one:
/// labels of 1 to 63 letters, digits, `-` and `_`, not starting or ending with `-`,
/// at most 253 characters in all. The root (`.` or empty) is not accepted.
pub fn canonical_domain(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return None;
    }
    let ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    ok.then(|| name.to_ascii_lowercase())
}

/// Whether canonical `name` is `domain` or inside it.
pub fn in_domain(name: &str, domain: &str) -> bool {
    name == domain
        || name
            .strip_suffix(domain)
            .is_some_and(|head| head.ends_with('.'))
}

/// AWS's private DNS domain of `region`: `ec2.internal` in us-east-1,
/// `<region>.compute.internal` elsewhere (the domain of instances' private DNS names
/// and of the default DHCP option set).
pub fn private_domain(region: &str) -> String {
    if region == "us-east-1" {
        "ec2.internal".to_owned()
    } else {
        format!("{region}.compute.internal")
    }
}

/// What is wrong with a DNS resource of the file (a [`crate::Problem::Dns`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsProblem {
    /// Not a domain name.
    #[error(
        "{0:?} is not a domain name (labels of 1 to 63 letters, digits, '-' or '_', 253 characters at most)"
    )]
    BadDomain(String),
    /// A zone whose domain another zone of the file has.
    #[error("private hosted zone {0:?} is declared twice: associate one zone with several VPCs")]
    DuplicateZone(String),
    /// A zone associated with no VPC.
    #[error("a private hosted zone is associated with at least one VPC")]
    NoVpc,
    /// A VPC named twice in one zone's `vpcs`.
    #[error("vpc {0:?} is associated twice")]
    DuplicateVpc(String),
    /// A record name outside its zone.
    #[error("{name:?} is not in zone {zone:?}")]
    OutsideZone {
        /// The record's name as written.
        name: String,
        /// The zone's domain.
        zone: String,
    },
    /// A record type vpcd does not hold.
    #[error("record type {0:?} is not supported: A, AAAA, CNAME, MX or TXT")]
    BadRecordType(String),
    /// A second record set with the same name and type.
    #[error("{name} {record_type} is defined twice: give one record set several values")]
    DuplicateRecordSet {
        /// Its name.
        name: String,
        /// Its type.
        record_type: DnsRecordType,
    },
    /// A CNAME beside other records at its name, or at the apex.
    #[error("a CNAME record is alone at its name and never at the zone's apex ({0})")]
    CnameNotAlone(String),
    /// A record set without values, or a CNAME with several.
    #[error("a record set has at least one value, a CNAME exactly one")]
    BadValueCount,
    /// A value that does not fit the type.
    #[error("{value:?} is not a valid {record_type} value")]
    BadValue {
        /// The value as written.
        value: String,
        /// The record set's type.
        record_type: DnsRecordType,
    },
    /// A TTL outside 0..=2147483647.
    #[error("ttl {0} is outside 0 to 2147483647")]
    BadTtl(i64),
    /// An unknown DHCP option set.
    #[error("no dhcp_options named {0:?}")]
    UnknownDhcpOptions(String),
    /// A DNS server that is neither an address nor `AmazonProvidedDNS`.
    #[error("{0:?} is neither an IPv4 address nor AmazonProvidedDNS")]
    BadDnsServer(String),
    /// Not an IPv4 address.
    #[error("{0:?} is not an IPv4 address")]
    BadAddress(String),
    /// More servers than AWS takes.
    #[error("has {0} values; AWS takes at most 4")]
    TooManyServers(usize),
    /// A NetBIOS node type other than 1, 2, 4, 8.
    #[error("netbios_node_type {0} is not 1, 2, 4 or 8")]
    BadNodeType(i64),
    /// An option set with no option.
    #[error("a DHCP option set has at least one option")]
    EmptyDhcpOptions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_checked_and_made_canonical() {
        assert_eq!(
            canonical_domain("Web.Demo.Internal."),
            Some("web.demo.internal".to_owned())
        );
        assert_eq!(canonical_domain("_sip.x"), Some("_sip.x".to_owned()));
        for bad in [
            "",
            ".",
            "a..b",
            "-a.b",
            "a-.b",
            "a b",
            "*.x",
            &"a".repeat(64),
        ] {
            assert_eq!(canonical_domain(bad), None, "{bad:?}");
        }
        assert!(in_domain("web.demo.internal", "demo.internal"));
        assert!(in_domain("demo.internal", "demo.internal"));
        assert!(!in_domain("xdemo.internal", "demo.internal"));
        assert_eq!(private_domain("us-east-1"), "ec2.internal");
        assert_eq!(private_domain("eu-west-1"), "eu-west-1.compute.internal");
    }
}
