//! The Amazon DNS resolver (Route 53 Resolver) of every VPC, at the VPC's primary
//! block's base+2 and 169.254.169.253, as a pure function: a DNS query in, the answer
//! AWS's resolver gives an instance of that VPC out ([`answer`], [`Resolver`]). It also
//! gives an instance's `/etc/resolv.conf` from the VPC's DHCP option set
//! ([`resolv_conf`]). docs/dns.md says what is answered and every choice made where
//! AWS is silent.
//!
//! Messages are parsed and written with `hickory-proto`; nothing here touches the
//! wire format by hand but the header's first bytes of a message too broken to parse
//! (for its ID and opcode).

mod message;
mod names;
mod resolv_conf;
#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;

use vpc_config::{Topology, VpcId, canonical_domain};

pub use resolv_conf::{dns_server, resolv_conf};

/// The TTL of the names AWS itself gives (instances' private and public DNS names,
/// reverse lookups, internet hosts, added names) and the negative-answer TTL outside
/// hosted zones, in seconds.
pub const AWS_NAMES_TTL: u32 = 60;

/// The UDP payload size the resolver advertises in its EDNS(0) OPT record, and the
/// largest UDP answer it sends (the DNS Flag Day 2020 size, which avoids
/// fragmentation on any common path).
pub const ADVERTISED_UDP_SIZE: u16 = 1232;

/// The longest UDP answer to a query without EDNS(0) (RFC 1035).
pub const PLAIN_UDP_SIZE: usize = 512;

/// The most CNAME records followed for one question; a longer chain, or a loop, is
/// SERVFAIL.
pub const MAX_CNAME_CHAIN: usize = 8;

/// How the query came: the size limit of the answer depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A UDP datagram: the answer is at most 512 bytes, or the size the query's
    /// EDNS(0) record offers up to [`ADVERTISED_UDP_SIZE`]; a larger one is sent
    /// truncated (TC set, the question alone).
    Udp,
    /// One message of a TCP stream, without its two-byte length (the caller frames):
    /// up to 65,535 bytes.
    Tcp,
}

/// A name added to the resolver with [`Resolver::with_names`].
#[derive(Debug, Clone)]
struct ExtraName {
    name: String,
    address: Ipv4Addr,
    seen_from: Option<VpcId>,
}

/// A name given to [`Resolver::with_names`] that is not a domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a domain name")]
pub struct BadName(pub String);

/// The resolver of a topology: what [`answer`] uses, with the names of the emulated
/// AWS services added to it ([`Resolver::with_names`]). Cheap to make: it borrows the
/// topology and looks names up when asked.
#[derive(Debug, Clone)]
pub struct Resolver<'t> {
    t: &'t Topology,
    extra: Vec<ExtraName>,
}

impl<'t> Resolver<'t> {
    /// The resolver of topology `t`, knowing what AWS's resolver knows of it.
    pub fn new(t: &'t Topology) -> Self {
        Resolver {
            t,
            extra: Vec::new(),
        }
    }

    /// Adds A records: each name resolves to its address (several addresses for one
    /// name are all answered), from the VPC `seen_from` only, or from every VPC if it
    /// is `None` (public service names). TTL [`AWS_NAMES_TTL`]. Private hosted zones
    /// associated with a VPC still take precedence in their domains.
    pub fn with_names(
        mut self,
        seen_from: Option<VpcId>,
        names: impl IntoIterator<Item = (String, Ipv4Addr)>,
    ) -> Result<Self, BadName> {
        for (name, address) in names {
            let canonical = canonical_domain(&name).ok_or(BadName(name))?;
            self.extra.push(ExtraName {
                name: canonical,
                address,
                seen_from,
            });
        }
        Ok(self)
    }

    /// The answer of VPC `vpc`'s resolver to the DNS message `query`, or `None` when
    /// nothing is sent back: the message is shorter than a DNS header or is itself a
    /// response, or the VPC has `enableDnsSupport` off (AWS's resolver then does not
    /// answer its instances).
    pub fn answer(&self, vpc: VpcId, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
        if !self.t.vpc(vpc).enable_dns_support {
            return None;
        }
        message::answer(self, Some(vpc), query, transport)
    }

    /// The answer of the emulated internet's resolver (vpcd's, at 169.254.169.253 for
    /// internet hosts) to `query`: public names only (instances' public DNS names give
    /// their public addresses, the internet hosts' and the services' names), no private
    /// name, no hosted zone.
    pub fn answer_public(&self, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
        message::answer(self, None, query, transport)
    }
}

/// The answer of VPC `vpc`'s resolver in topology `t` to `query` (see
/// [`Resolver::answer`]), the emulated AWS services' names included
/// ([`service_names`]).
pub fn answer(t: &Topology, vpc: VpcId, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
    let resolver = Resolver::new(t);
    // Service and region names are checked by the configuration: never a bad name.
    let resolver = resolver
        .clone()
        .with_names(None, service_names(t))
        .unwrap_or(resolver);
    resolver.answer(vpc, query, transport)
}

/// The answer of the emulated internet's resolver in topology `t` to `query` (see
/// [`Resolver::answer_public`]), the emulated AWS services' names included.
pub fn answer_public(t: &Topology, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
    let resolver = Resolver::new(t);
    let resolver = resolver
        .clone()
        .with_names(None, service_names(t))
        .unwrap_or(resolver);
    resolver.answer_public(query, transport)
}

/// The public names of the emulated AWS services (`[[aws_service]]`), from every VPC:
/// `<service>.<region>.amazonaws.com` (and, for S3 in us-east-1, AWS's legacy global
/// `s3.amazonaws.com`) gives the address of every internet host inside the
/// service's blocks, as AWS's regional service endpoints do.
pub fn service_names(t: &Topology) -> Vec<(String, Ipv4Addr)> {
    let mut names = Vec::new();
    for s in &t.aws_services {
        let hosts = t
            .internet_hosts
            .iter()
            .filter(|h| s.cidrs.iter().any(|c| c.contains(&h.address)));
        for h in hosts {
            names.push((format!("{}.{}.amazonaws.com", s.name, s.region), h.address));
            if s.name == "s3" && s.region == "us-east-1" {
                names.push(("s3.amazonaws.com".to_owned(), h.address));
            }
        }
    }
    names
}
