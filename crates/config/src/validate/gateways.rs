//! Internet gateways, Elastic IPs, NAT gateways, public IPs and the hosts of the
//! emulated internet, with AWS's rules:
//!
//! - Names are valid and unique per kind; an internet host's name differs from every
//!   instance's name (both are network namespaces). An Elastic IP without a name is
//!   called `eip-` and its address with dashes (`eip-198-51-100-10`).
//! - An internet gateway is attached to at most one VPC (`vpc`, omitted: detached), and
//!   a VPC has at most one attached internet gateway.
//! - Every public address (Elastic IPs, interfaces' `public_ip`, internet hosts,
//!   customer gateways) is in a
//!   documentation range ([`addressing::is_public_address`]) and unique among them all.
//! - An Elastic IP is associated with at most one thing: an instance's `eth0`
//!   (`instance`), a network interface (`network_interface`) or a NAT gateway (which
//!   names it); an interface has at most one Elastic IP. An interface may have an
//!   Elastic IP and a `public_ip`: the Elastic IP is the one mapped, as in AWS.
//! - A NAT gateway is in an existing subnet. A public one (the default) names 1 to 8
//!   Elastic IPs, each unassociated otherwise and named by no other NAT gateway, and has
//!   exactly one private address per Elastic IP; a private one names none and has 1 to
//!   8 private addresses. Its `state` is `available` (the default) or `deleted`
//!   (`DeleteNatGateway`, as vpcd writes it back after a deletion at run time): a
//!   deleted one names no Elastic IP (deleting it disassociated them), keeps 1 to 8
//!   private addresses (one allocated if none is written), translates nothing, and
//!   routes to it are `blackhole`. Written private addresses follow the interfaces' rules (in
//!   the subnet, not reserved, unique in the VPC, NAT gateways included); missing ones
//!   are allocated after every interface (see `Checker::addresses`). `source_ports` is
//!   `FROM-TO` or one port inside 1024-65535.
//! - Route targets `internet_gateway` and `nat_gateway` are checked with the routes:
//!   the internet gateway must be attached to the table's VPC, the NAT gateway must be
//!   in it.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::ops::Range;

use toml::Spanned;

use super::{Checker, lookup, names, valid_name};
use crate::addressing;
use crate::error::{Problem, Reporter};
use crate::security::PortRange;
use crate::topology::*;

/// What the gateway checks record for the address allocation, the routes and `build`.
#[derive(Default)]
pub(super) struct Gateways<'a> {
    /// Internet gateway name -> index.
    pub igw_names: HashMap<&'a str, usize>,
    /// Per internet gateway: its VPC (`Some(None)`: detached; `None`: a broken `vpc`).
    pub igw_vpcs: Vec<Option<Option<VpcId>>>,
    /// NAT gateway name -> index.
    pub nat_names: HashMap<&'a str, usize>,
    /// Per NAT gateway, in file order.
    pub nats: Vec<PendingNat<'a>>,
    /// Per Elastic IP, in file order.
    pub eips: Vec<PendingEip>,
    /// Per internet host: its address (`None`: broken).
    pub hosts: Vec<Option<Ipv4Addr>>,
}

/// A NAT gateway while its addresses are being checked or allocated.
pub(super) struct PendingNat<'a> {
    /// Its subnet (`None`: a broken reference).
    pub subnet: Option<SubnetId>,
    /// Public or private (`None`: broken).
    pub connectivity: Option<NatConnectivity>,
    /// Its Elastic IPs (indices into `Gateways::eips`), in the order written.
    pub eips: Vec<usize>,
    /// The written private addresses, with their field paths.
    pub written: Vec<(&'a Spanned<String>, String)>,
    /// How many private addresses to allocate (none were written).
    pub allocate: usize,
    /// Its private addresses: the written ones claimed, or the allocated ones.
    pub ips: Vec<Option<Ipv4Addr>>,
    /// The checked `source_ports` (`None`: broken).
    pub source_ports: Option<PortRange>,
    /// Whether its `state` is `deleted` (`None`: broken).
    pub deleted: Option<bool>,
    /// Whether anything else about it is broken.
    pub broken: bool,
}

/// An Elastic IP being checked.
pub(super) struct PendingEip {
    /// Its name, written or derived from the address (`None`: broken).
    pub name: Option<String>,
    /// Its address (`None`: broken).
    pub address: Option<Ipv4Addr>,
    /// What it is associated with.
    pub association: Option<EipAssociation>,
    /// Whether its association is broken.
    pub broken: bool,
}

/// The topology's gateway lists, as `build_gateways` makes them.
pub(super) struct Built {
    pub internet_gateways: Vec<InternetGateway>,
    pub nat_gateways: Vec<NatGateway>,
    pub elastic_ips: Vec<ElasticIp>,
    pub internet_hosts: Vec<InternetHost>,
}

/// One use of a public address, for the uniqueness check.
struct PublicUse {
    ip: Ipv4Addr,
    span: Range<usize>,
    field: String,
    owner: String,
}

impl<'a> Checker<'_, 'a, '_> {
    /// Everything about internet gateways, hosts, Elastic IPs, public IPs and NAT
    /// gateways that does not need the interfaces' private addresses.
    pub(super) fn gateways(&mut self) {
        self.internet_gateways();
        self.internet_hosts();
        self.elastic_ips();
        self.public_ips();
        self.unique_public_addresses();
        self.nat_gateways();
    }

    fn internet_gateways(&mut self) {
        let raw = self.raw;
        self.gw.igw_names = names(
            self.r,
            "internet_gateway",
            raw.internet_gateway.iter().map(|g| &g.name),
        );
        let mut attached: HashMap<VpcId, usize> = HashMap::new();
        for (i, g) in raw.internet_gateway.iter().enumerate() {
            let Some(v) = &g.vpc else {
                self.gw.igw_vpcs.push(Some(None));
                continue;
            };
            let field = format!("internet_gateway[{i}].vpc");
            let vpc: Option<VpcId> = lookup(
                self.r,
                &self.vpc_names,
                v,
                field.clone(),
                Problem::UnknownVpc,
            );
            if let Some(vpc) = vpc {
                if let Some(&other) = attached.get(&vpc) {
                    let problem = Problem::SecondInternetGateway {
                        vpc: v.get_ref().clone(),
                        other: raw.internet_gateway[other].name.get_ref().clone(),
                    };
                    self.r.report(v.span(), field, problem);
                    self.gw.igw_vpcs.push(None);
                    continue;
                }
                attached.insert(vpc, i);
            }
            self.gw.igw_vpcs.push(vpc.map(Some));
        }
    }

    fn internet_hosts(&mut self) {
        let raw = self.raw;
        let hosts = names(
            self.r,
            "internet_host",
            raw.internet_host.iter().map(|h| &h.name),
        );
        for (i, h) in raw.internet_host.iter().enumerate() {
            let name = h.name.get_ref().as_str();
            if let Some(&index) = self.instance_names.get(name)
                && hosts.get(name) == Some(&i)
            {
                let problem = Problem::HostNameClash {
                    name: name.to_owned(),
                    index,
                };
                self.r
                    .report(h.name.span(), format!("internet_host[{i}].name"), problem);
            }
            let field = format!("internet_host[{i}].address");
            let address = public_address(self.r, &h.address, field);
            self.gw.hosts.push(address);
        }
    }

    /// Addresses, names and associations with interfaces.
    fn elastic_ips(&mut self) {
        let raw = self.raw;
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut eni_eip: HashMap<usize, usize> = HashMap::new();
        for (i, e) in raw.elastic_ip.iter().enumerate() {
            let path = format!("elastic_ip[{i}]");
            let address = public_address(self.r, &e.address, format!("{path}.address"));
            let name = match &e.name {
                Some(n) => {
                    let field = format!("{path}.name");
                    let name = n.get_ref();
                    if !valid_name(name) {
                        self.r
                            .report(n.span(), field, Problem::BadName(name.clone()));
                        None
                    } else if let Some(&index) = names.get(name) {
                        let problem = Problem::DuplicateName {
                            name: name.clone(),
                            kind: "elastic_ip",
                            index,
                        };
                        self.r.report(n.span(), field, problem);
                        None
                    } else {
                        Some(name.clone())
                    }
                }
                None => address.map(|a| {
                    let name = ElasticIp::default_name(a);
                    // The same address twice is reported as such; only a written name
                    // that happens to be this one is a clash of names.
                    if let Some(&index) = names.get(&name)
                        && self.gw.eips[index].address != Some(a)
                    {
                        let problem = Problem::DuplicateName {
                            name: name.clone(),
                            kind: "elastic_ip",
                            index,
                        };
                        self.r
                            .report(e.address.span(), format!("{path}.name"), problem);
                    }
                    name
                }),
            };
            if let Some(n) = &name {
                names.entry(n.clone()).or_insert(i);
            }
            let mut broken = false;
            let target = match (&e.instance, &e.network_interface) {
                (Some(_), Some(n)) => {
                    self.r
                        .report(n.span(), path.clone(), Problem::ElasticIpTwoTargets);
                    broken = true;
                    None
                }
                (Some(inst), None) => {
                    let field = format!("{path}.instance");
                    let k = self.eth0(inst, &field);
                    broken = k.is_none();
                    k.map(|k| (k, inst, field))
                }
                (None, Some(nic)) => {
                    let field = format!("{path}.network_interface");
                    let k = self.interface_target(nic, &field);
                    broken = k.is_none();
                    k.map(|k| (k, nic, field))
                }
                (None, None) => None,
            };
            let mut association = None;
            if let Some((k, reference, field)) = target {
                match eni_eip.get(&k) {
                    Some(&other) => {
                        let problem = Problem::EniHasElasticIp {
                            eni: self.eni_name(k),
                            eip: self.gw.eips[other].name.clone().unwrap_or_default(),
                        };
                        self.r.report(reference.span(), field, problem);
                        broken = true;
                    }
                    None => {
                        eni_eip.insert(k, i);
                        association = Some(EipAssociation::Eni(EniId(k as u32)));
                    }
                }
            }
            self.gw.eips.push(PendingEip {
                name,
                address,
                association,
                broken,
            });
        }
    }

    /// The `eth0` of the instance `reference` names.
    fn eth0(&mut self, reference: &Spanned<String>, field: &str) -> Option<usize> {
        let inst = self.instance_ref(reference, field)?;
        self.enis
            .iter()
            .position(|e| e.instance == inst.index() && e.device_index == 0)
    }

    /// Every interface's `public_ip`.
    fn public_ips(&mut self) {
        for k in 0..self.enis.len() {
            if let Some((text, field)) = self.enis[k].public_ref.clone() {
                self.enis[k].public_ip = public_address(self.r, text, field);
            }
        }
    }

    /// Each public address once among Elastic IPs, public IPs and internet hosts; the
    /// later use in the file is the one reported.
    fn unique_public_addresses(&mut self) {
        let raw = self.raw;
        let mut uses: Vec<PublicUse> = Vec::new();
        for (i, e) in self.gw.eips.iter().enumerate() {
            if let Some(ip) = e.address {
                uses.push(PublicUse {
                    ip,
                    span: raw.elastic_ip[i].address.span(),
                    field: format!("elastic_ip[{i}].address"),
                    owner: match &e.name {
                        Some(name) => format!("elastic_ip {name:?}"),
                        None => format!("elastic_ip[{i}]"),
                    },
                });
            }
        }
        for (k, e) in self.enis.iter().enumerate() {
            if let (Some(ip), Some((text, field))) = (e.public_ip, &e.public_ref) {
                uses.push(PublicUse {
                    ip,
                    span: text.span(),
                    field: field.clone(),
                    owner: format!("{} (public_ip)", self.eni_name(k)),
                });
            }
        }
        for (i, h) in raw.internet_host.iter().enumerate() {
            if let Some(ip) = self.gw.hosts[i] {
                uses.push(PublicUse {
                    ip,
                    span: h.address.span(),
                    field: format!("internet_host[{i}].address"),
                    owner: format!("internet_host {:?}", h.name.get_ref()),
                });
            }
        }
        for (i, g) in raw.customer_gateway.iter().enumerate() {
            if let Some(ip) = self.vpn.cgw_ips[i] {
                uses.push(PublicUse {
                    ip,
                    span: g.ip_address.span(),
                    field: format!("customer_gateway[{i}].ip_address"),
                    owner: format!("customer_gateway {:?}", g.name.get_ref()),
                });
            }
        }
        for (i, c) in raw.vpn_connection.iter().enumerate() {
            for (k, ip) in self
                .vpn
                .outside_ips
                .get(i)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let (Some(ip), Some(o)) = (ip, c.tunnel_options.get(k)) else {
                    continue;
                };
                let Some(s) = &o.outside_ip_address else {
                    continue;
                };
                uses.push(PublicUse {
                    ip: *ip,
                    span: s.span(),
                    field: format!("vpn_connection[{i}].tunnel_options[{k}].outside_ip_address"),
                    owner: format!("vpn_connection {:?} tunnel {}", c.name.get_ref(), k + 1),
                });
            }
        }
        uses.sort_by_key(|u| u.span.start);
        let mut first: HashMap<Ipv4Addr, usize> = HashMap::new();
        for (u, public) in uses.iter().enumerate() {
            match first.get(&public.ip) {
                Some(&f) => {
                    let problem = Problem::PublicAddressInUse {
                        ip: public.ip,
                        owner: uses[f].owner.clone(),
                    };
                    self.r
                        .report(public.span.clone(), public.field.clone(), problem);
                }
                None => {
                    first.insert(public.ip, u);
                }
            }
        }
    }

    /// Names, subnets, connectivity, Elastic IPs, written private addresses and source
    /// ports; the addresses are claimed and allocated by `addresses`.
    fn nat_gateways(&mut self) {
        let raw = self.raw;
        self.gw.nat_names = names(
            self.r,
            "nat_gateway",
            raw.nat_gateway.iter().map(|n| &n.name),
        );
        // Elastic IP -> the NAT gateway that named it first.
        let mut claimed: HashMap<usize, usize> = HashMap::new();
        for (i, n) in raw.nat_gateway.iter().enumerate() {
            let path = format!("nat_gateway[{i}]");
            let subnet: Option<SubnetId> = lookup(
                self.r,
                &self.subnet_names,
                &n.subnet,
                format!("{path}.subnet"),
                Problem::UnknownSubnet,
            );
            let subnet = subnet.filter(|s| self.subnets[s.index()].is_some());
            let connectivity = match &n.connectivity {
                None => Some(NatConnectivity::Public),
                Some(c) => match c.get_ref().as_str() {
                    "public" => Some(NatConnectivity::Public),
                    "private" => Some(NatConnectivity::Private),
                    other => {
                        let problem = Problem::BadConnectivity(other.to_owned());
                        self.r
                            .report(c.span(), format!("{path}.connectivity"), problem);
                        None
                    }
                },
            };
            let deleted = match &n.state {
                None => Some(false),
                Some(s) => match s.get_ref().as_str() {
                    "available" => Some(false),
                    "deleted" => Some(true),
                    other => {
                        let problem = Problem::BadNatGatewayState(other.to_owned());
                        self.r.report(s.span(), format!("{path}.state"), problem);
                        None
                    }
                },
            };
            let is_deleted = deleted == Some(true);
            let mut broken = connectivity.is_none() || deleted.is_none();
            let written_eips = n.elastic_ips.as_ref().map_or(&[][..], |l| &l.get_ref()[..]);
            let eips_span = n
                .elastic_ips
                .as_ref()
                .map_or_else(|| n.name.span(), |l| l.span());
            let eips_field = format!("{path}.elastic_ips");
            let mut eips = Vec::new();
            match connectivity {
                Some(_) if is_deleted && !written_eips.is_empty() => {
                    self.r
                        .report(eips_span, eips_field, Problem::ElasticIpsOnDeletedNat);
                    broken = true;
                }
                Some(_) if is_deleted => {}
                Some(NatConnectivity::Public) => {
                    let count = written_eips.len();
                    if !(1..=NAT_MAX_ADDRESSES).contains(&count) {
                        let problem = Problem::NatElasticIpCount { count };
                        self.r.report(eips_span, eips_field.clone(), problem);
                        broken = true;
                    }
                    for (j, reference) in written_eips.iter().enumerate() {
                        let field = format!("{eips_field}[{j}]");
                        match self.nat_eip(i, reference, &field, &mut claimed) {
                            Some(e) => eips.push(e),
                            None => broken = true,
                        }
                    }
                }
                Some(NatConnectivity::Private) if !written_eips.is_empty() => {
                    self.r
                        .report(eips_span, eips_field, Problem::ElasticIpsOnPrivateNat);
                    broken = true;
                }
                _ => {}
            }
            let mut written = Vec::new();
            let mut allocate = 0;
            match (&n.private_ips, connectivity) {
                (_, None) => {}
                (Some(list), Some(c)) => {
                    let count = list.get_ref().len();
                    let field = format!("{path}.private_ips");
                    let problem = match c {
                        _ if is_deleted => (!(1..=NAT_MAX_ADDRESSES).contains(&count))
                            .then_some(Problem::DeletedNatAddressCount { count }),
                        NatConnectivity::Public
                            if (1..=NAT_MAX_ADDRESSES).contains(&written_eips.len())
                                && count != written_eips.len() =>
                        {
                            Some(Problem::NatAddressesPerElasticIp {
                                count,
                                eips: written_eips.len(),
                            })
                        }
                        NatConnectivity::Private if !(1..=NAT_MAX_ADDRESSES).contains(&count) => {
                            Some(Problem::PrivateNatAddressCount { count })
                        }
                        _ => None,
                    };
                    if let Some(problem) = problem {
                        self.r.report(list.span(), field.clone(), problem);
                        broken = true;
                    }
                    written = list
                        .get_ref()
                        .iter()
                        .enumerate()
                        .map(|(j, ip)| (ip, format!("{field}[{j}]")))
                        .collect();
                }
                (None, Some(_)) if is_deleted => allocate = 1,
                (None, Some(NatConnectivity::Public)) => {
                    if (1..=NAT_MAX_ADDRESSES).contains(&written_eips.len()) {
                        allocate = written_eips.len();
                    }
                }
                (None, Some(NatConnectivity::Private)) => allocate = 1,
            }
            let source_ports = match &n.source_ports {
                None => Some(NAT_DEFAULT_PORTS),
                Some(text) => {
                    let parsed = source_ports(text.get_ref());
                    if parsed.is_none() {
                        let problem = Problem::BadSourcePorts(text.get_ref().clone());
                        self.r
                            .report(text.span(), format!("{path}.source_ports"), problem);
                    }
                    parsed
                }
            };
            self.gw.nats.push(PendingNat {
                subnet,
                connectivity,
                eips,
                written,
                allocate,
                ips: Vec::new(),
                source_ports,
                deleted,
                broken,
            });
        }
    }

    /// An Elastic IP that NAT gateway `i` names: declared, by address or by name, and
    /// associated with nothing else. Records the claim.
    fn nat_eip(
        &mut self,
        i: usize,
        reference: &Spanned<String>,
        field: &str,
        claimed: &mut HashMap<usize, usize>,
    ) -> Option<usize> {
        let text = reference.get_ref();
        let found = match text.parse::<Ipv4Addr>() {
            Ok(ip) => self.gw.eips.iter().position(|e| e.address == Some(ip)),
            Err(_) => self
                .gw
                .eips
                .iter()
                .position(|e| e.name.as_deref() == Some(text.as_str())),
        };
        let Some(e) = found else {
            let problem = Problem::UnknownElasticIp(text.clone());
            self.r.report(reference.span(), field, problem);
            return None;
        };
        let eip = &self.gw.eips[e];
        let by = match (eip.association, claimed.get(&e).copied()) {
            (Some(EipAssociation::Eni(k)), _) => self.eni_name(k.index()),
            (_, Some(n)) => format!("nat_gateway {:?}", self.raw.nat_gateway[n].name.get_ref()),
            // An Elastic IP whose own association is broken: reported already.
            (None, None) if eip.broken => return None,
            (_, None) => {
                claimed.insert(e, i);
                return Some(e);
            }
        };
        let problem = Problem::ElasticIpTaken {
            eip: eip.name.clone().unwrap_or_else(|| text.clone()),
            by,
        };
        self.r.report(reference.span(), field, problem);
        None
    }

    /// The checked gateways, Elastic IPs and hosts, for `build` (nothing was reported).
    pub(super) fn build_gateways(&self) -> Option<Built> {
        let raw = self.raw;
        let mut igws = Vec::new();
        for (i, g) in raw.internet_gateway.iter().enumerate() {
            igws.push(InternetGateway {
                name: g.name.get_ref().clone(),
                vpc: self.gw.igw_vpcs[i]?,
            });
        }
        let mut eips = Vec::new();
        for e in &self.gw.eips {
            if e.broken {
                return None;
            }
            eips.push(ElasticIp {
                name: e.name.clone()?,
                address: e.address?,
                association: e.association,
            });
        }
        let mut nats = Vec::new();
        for (i, n) in raw.nat_gateway.iter().enumerate() {
            let p = &self.gw.nats[i];
            if p.broken {
                return None;
            }
            for (j, &e) in p.eips.iter().enumerate() {
                eips[e].association = Some(EipAssociation::NatGateway(NatGatewayId(i as u32), j));
            }
            let source_ports = p.source_ports?;
            let ports = u32::from(source_ports.to) - u32::from(source_ports.from) + 1;
            nats.push(NatGateway {
                name: n.name.get_ref().clone(),
                subnet: p.subnet?,
                connectivity: p.connectivity?,
                private_ips: p.ips.iter().copied().collect::<Option<Vec<_>>>()?,
                source_ports,
                max_connections_per_destination: ports.min(NAT_MAX_CONNECTIONS_PER_DESTINATION),
                deleted: p.deleted?,
            });
        }
        let mut hosts = Vec::new();
        for (i, h) in raw.internet_host.iter().enumerate() {
            hosts.push(InternetHost {
                name: h.name.get_ref().clone(),
                address: self.gw.hosts[i]?,
                dns_names: h
                    .dns_names
                    .iter()
                    .filter_map(|n| crate::dns::canonical_domain(n.get_ref()))
                    .collect(),
                role: HostRole::Declared,
            });
        }
        Some(Built {
            internet_gateways: igws,
            nat_gateways: nats,
            elastic_ips: eips,
            internet_hosts: hosts,
        })
    }
}

/// Parses a public address: an IPv4 address for which
/// [`addressing::is_public_address`] holds.
pub(super) fn public_address(
    r: &mut Reporter<'_>,
    s: &Spanned<String>,
    field: String,
) -> Option<Ipv4Addr> {
    let text = s.get_ref();
    let Ok(ip) = text.parse::<Ipv4Addr>() else {
        r.report(s.span(), field, Problem::BadAddress(text.clone()));
        return None;
    };
    if !addressing::is_public_address(ip) {
        r.report(s.span(), field, Problem::NotPublicAddress(ip));
        return None;
    }
    Some(ip)
}

/// `FROM-TO` or one port, inside [`NAT_DEFAULT_PORTS`].
fn source_ports(text: &str) -> Option<PortRange> {
    let (from, to) = text.split_once('-').unwrap_or((text, text));
    let port = |p: &str| {
        let digits = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| p.parse::<u16>().ok()).flatten()
    };
    let (from, to) = (port(from)?, port(to)?);
    let ok = NAT_DEFAULT_PORTS.contains(from) && NAT_DEFAULT_PORTS.contains(to) && from <= to;
    ok.then_some(PortRange { from, to })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use crate::{ConfigError, Problem, Topology, parse};
    use crate::{security::*, topology::*};

    /// VPC `main` with subnets `a` and `b` (zone x), VPC `other` with subnet `o`;
    /// instance `web` (eth0 10.0.1.10, eth1 10.0.1.11) and instance `app` (10.0.1.20)
    /// in `a`, instance `far` (10.1.1.10) in `o`.
    const BASE: &str = r#"[[vpc]]
name = "main"
cidr = "10.0.0.0/16"

[[vpc]]
name = "other"
cidr = "10.1.0.0/16"

[[subnet]]
name = "a"
vpc = "main"
cidr = "10.0.1.0/24"
az = "x"

[[subnet]]
name = "b"
vpc = "main"
cidr = "10.0.2.0/24"
az = "x"

[[subnet]]
name = "o"
vpc = "other"
cidr = "10.1.1.0/24"
az = "x"

[[instance]]
name = "web"
subnet = "a"
private_ip = "10.0.1.10"

[[instance.eni]]
subnet = "a"
private_ip = "10.0.1.11"

[[instance]]
name = "app"
subnet = "a"
private_ip = "10.0.1.20"

[[instance]]
name = "far"
subnet = "o"
private_ip = "10.1.1.10"
"#;

    /// Lines in `BASE`: a snippet appended to it starts on line `BASE_LINES + 1`.
    const BASE_LINES: usize = 44;

    snippet_helpers!();

    fn problems(extra: &str) -> Vec<Problem> {
        match parse(&format!("{BASE}{extra}"), "t.toml") {
            Err(ConfigError::Invalid(d)) => d.into_iter().map(|d| d.problem).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn eni(t: &Topology, name: &str) -> EniId {
        t.find_eni(name)
            .unwrap_or_else(|| panic!("no interface {name}"))
    }

    #[test]
    fn base_line_count() {
        assert_eq!(BASE.lines().count(), BASE_LINES);
    }

    #[test]
    fn internet_gateways_attach_to_one_existing_vpc_each() {
        let t = ok(
            "[[internet_gateway]]\nname = \"g1\"\nvpc = \"main\"\n\n[[internet_gateway]]\nname = \"g2\"\n\n[[internet_gateway]]\nname = \"g3\"\nvpc = \"other\"\n",
        );
        assert_eq!(
            t.internet_gateways,
            [
                InternetGateway {
                    name: "g1".into(),
                    vpc: Some(VpcId(0))
                },
                InternetGateway {
                    name: "g2".into(),
                    vpc: None
                },
                InternetGateway {
                    name: "g3".into(),
                    vpc: Some(VpcId(1))
                },
            ]
        );
        assert_eq!(t.vpc_internet_gateway(VpcId(0)), Some(InternetGatewayId(0)));
        assert_eq!(t.vpc_internet_gateway(VpcId(1)), Some(InternetGatewayId(2)));

        assert_eq!(
            errors(
                "[[internet_gateway]]\nname = \"g1\"\nvpc = \"main\"\n\n[[internet_gateway]]\nname = \"g2\"\nvpc = \"main\"\n\n[[internet_gateway]]\nname = \"g1\"\nvpc = \"nope\"\n"
            ),
            [
                format!(
                    "{}internet_gateway[1].vpc vpc \"main\" already has internet gateway \"g1\" attached; AWS allows one",
                    at(7, 7)
                ),
                format!(
                    "{}internet_gateway[2].name \"g1\" is already the name of internet_gateway 0",
                    at(10, 8)
                ),
                format!(
                    "{}internet_gateway[2].vpc \"nope\" is not a declared vpc",
                    at(11, 7)
                ),
            ]
        );
        assert_eq!(
            errors("[[internet_gateway]]\nname = \"g\"\nvpc = \"main\"\nsubnet = \"a\"\n"),
            [format!(
                "{}internet_gateway[0].subnet unknown field `subnet`, expected `name` or `vpc`",
                at(4, 1)
            )]
        );
    }

    #[test]
    fn internet_hosts_have_public_addresses_and_namespace_names() {
        let t = ok(
            "[[internet_host]]\nname = \"internet\"\naddress = \"203.0.113.10\"\n\n[[internet_host]]\nname = \"other-site\"\naddress = \"192.0.2.77\"\n",
        );
        assert_eq!(
            t.internet_hosts,
            [
                InternetHost {
                    name: "internet".into(),
                    address: ip("203.0.113.10"),
                    dns_names: Vec::new(),
                    role: HostRole::Declared,
                },
                InternetHost {
                    name: "other-site".into(),
                    address: ip("192.0.2.77"),
                    dns_names: Vec::new(),
                    role: HostRole::Declared,
                },
            ]
        );
        assert_eq!(t.host_ids().count(), 2);
        assert_eq!(t.internet_host(HostId(1)).name, "other-site");

        assert_eq!(
            errors(
                "[[internet_host]]\nname = \"web\"\naddress = \"203.0.113.10\"\n\n[[internet_host]]\nname = \"h\"\naddress = \"8.8.8.8\"\n\n[[internet_host]]\nname = \"h\"\naddress = \"203.0.113.x\"\n"
            ),
            [
                format!(
                    "{}internet_host[0].name \"web\" is already the name of instance 0; internet hosts and instances are network namespaces and need distinct names",
                    at(2, 8)
                ),
                format!(
                    "{}internet_host[1].address 8.8.8.8 cannot be a public address: vpcd's public addresses are 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737), without each range's first and last address and without 192.0.2.1 (the internet's router)",
                    at(7, 11)
                ),
                format!(
                    "{}internet_host[2].name \"h\" is already the name of internet_host 1",
                    at(10, 8)
                ),
                format!(
                    "{}internet_host[2].address \"203.0.113.x\" is not an IPv4 address",
                    at(11, 11)
                ),
            ]
        );
    }

    #[test]
    fn public_addresses_are_documentation_addresses() {
        let host = |a: &str| format!("[[internet_host]]\nname = \"h\"\naddress = \"{a}\"\n");
        for good in ["192.0.2.2", "192.0.2.254", "198.51.100.1", "203.0.113.254"] {
            assert_eq!(ok(&host(good)).internet_hosts[0].address, ip(good));
        }
        for bad in [
            "192.0.2.0",
            "192.0.2.1",
            "192.0.2.255",
            "198.51.100.0",
            "203.0.113.255",
            "192.0.3.1",
            "10.0.1.10",
            "0.0.0.0",
        ] {
            assert_eq!(
                problems(&host(bad)),
                [Problem::NotPublicAddress(ip(bad))],
                "{bad}"
            );
        }
    }

    #[test]
    fn public_addresses_are_unique_among_eips_public_ips_and_hosts() {
        let src = "[[elastic_ip]]\naddress = \"198.51.100.10\"\n\n[[elastic_ip]]\nname = \"two\"\naddress = \"198.51.100.10\"\n\n[[internet_host]]\nname = \"h\"\naddress = \"198.51.100.10\"\n";
        assert_eq!(
            errors(src),
            [
                format!(
                    "{}elastic_ip[1].address 198.51.100.10 is already used by elastic_ip \"eip-198-51-100-10\"",
                    at(6, 11)
                ),
                format!(
                    "{}internet_host[0].address 198.51.100.10 is already used by elastic_ip \"eip-198-51-100-10\"",
                    at(10, 11)
                ),
            ]
        );
        // A public_ip written before (in the file) an Elastic IP with its address.
        let src = BASE.replace(
            "private_ip = \"10.0.1.20\"",
            "private_ip = \"10.0.1.20\"\npublic_ip = \"203.0.113.5\"",
        ) + "[[internet_host]]\nname = \"h\"\naddress = \"203.0.113.5\"\n\n[[elastic_ip]]\naddress = \"203.0.113.5\"\n";
        match parse(&src, "t.toml") {
            Err(ConfigError::Invalid(d)) => {
                let d: Vec<String> = d.iter().map(|d| d.to_string()).collect();
                assert_eq!(
                    d,
                    [
                        format!(
                            "{}internet_host[0].address 203.0.113.5 is already used by app/eth0 (public_ip)",
                            at(4, 11)
                        ),
                        format!(
                            "{}elastic_ip[0].address 203.0.113.5 is already used by app/eth0 (public_ip)",
                            at(7, 11)
                        ),
                    ]
                );
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn public_ips_of_interfaces() {
        let src = BASE
            .replace(
                "private_ip = \"10.0.1.10\"",
                "private_ip = \"10.0.1.10\"\npublic_ip = \"203.0.113.5\"",
            )
            .replace(
                "private_ip = \"10.0.1.11\"",
                "private_ip = \"10.0.1.11\"\npublic_ip = \"203.0.113.6\"",
            );
        let t = parse(&src, "t.toml").unwrap();
        assert_eq!(t.eni(eni(&t, "web")).public_ip, Some(ip("203.0.113.5")));
        assert_eq!(
            t.eni(eni(&t, "web/eth1")).public_ip,
            Some(ip("203.0.113.6"))
        );
        assert_eq!(t.eni(eni(&t, "app")).public_ip, None);
        assert_eq!(
            t.eni_public_ip(eni(&t, "web/eth1")),
            Some(ip("203.0.113.6"))
        );
        assert_eq!(
            t.public_mappings(),
            [
                (VpcId(0), ip("10.0.1.10"), ip("203.0.113.5")),
                (VpcId(0), ip("10.0.1.11"), ip("203.0.113.6")),
            ]
        );

        let bad = BASE
            .replace(
                "private_ip = \"10.0.1.10\"",
                "private_ip = \"10.0.1.10\"\npublic_ip = \"10.0.1.10\"",
            )
            .replace(
                "private_ip = \"10.0.1.11\"",
                "private_ip = \"10.0.1.11\"\npublic_ip = \"public\"",
            );
        match parse(&bad, "t.toml") {
            Err(ConfigError::Invalid(d)) => {
                let d: Vec<String> = d.iter().map(|d| d.to_string()).collect();
                assert_eq!(d.len(), 2, "{d:?}");
                assert!(
                    d[0].starts_with(
                        "t.toml:31:13: instance[0].public_ip 10.0.1.10 cannot be a public address"
                    ),
                    "{d:?}"
                );
                assert_eq!(
                    d[1],
                    "t.toml:36:13: instance[0].eni[0].public_ip \"public\" is not an IPv4 address"
                );
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn elastic_ips_are_named_and_associated_with_one_interface() {
        let t = ok(
            "[[elastic_ip]]\naddress = \"198.51.100.10\"\ninstance = \"web\"\n\n[[elastic_ip]]\nname = \"db-eip\"\naddress = \"198.51.100.11\"\nnetwork_interface = \"web/eth1\"\n\n[[elastic_ip]]\naddress = \"198.51.100.12\"\n",
        );
        assert_eq!(
            t.elastic_ips,
            [
                ElasticIp {
                    name: "eip-198-51-100-10".into(),
                    address: ip("198.51.100.10"),
                    association: Some(EipAssociation::Eni(eni(&t, "web/eth0"))),
                },
                ElasticIp {
                    name: "db-eip".into(),
                    address: ip("198.51.100.11"),
                    association: Some(EipAssociation::Eni(eni(&t, "web/eth1"))),
                },
                ElasticIp {
                    name: "eip-198-51-100-12".into(),
                    address: ip("198.51.100.12"),
                    association: None,
                },
            ]
        );
        assert_eq!(t.eni_public_ip(eni(&t, "web")), Some(ip("198.51.100.10")));
        assert_eq!(t.eni_public_ip(eni(&t, "app")), None);

        assert_eq!(
            errors(
                "[[elastic_ip]]\naddress = \"198.51.100.10\"\ninstance = \"web\"\n\n[[elastic_ip]]\naddress = \"198.51.100.11\"\nnetwork_interface = \"web/eth0\"\n\n[[elastic_ip]]\naddress = \"198.51.100.12\"\ninstance = \"app\"\nnetwork_interface = \"app/eth0\"\n\n[[elastic_ip]]\naddress = \"198.51.100.13\"\ninstance = \"ghost\"\n\n[[elastic_ip]]\naddress = \"198.51.100.14\"\nnetwork_interface = \"app/eth1\"\n"
            ),
            [
                format!(
                    "{}elastic_ip[1].network_interface web/eth0 already has elastic_ip \"eip-198-51-100-10\"; a network interface has one Elastic IP at most",
                    at(7, 21)
                ),
                format!(
                    "{}elastic_ip[2] has both instance and network_interface: an Elastic IP is associated with one network interface at most",
                    at(12, 21)
                ),
                format!(
                    "{}elastic_ip[3].instance \"ghost\" is not a declared instance",
                    at(16, 12)
                ),
                format!(
                    "{}elastic_ip[4].network_interface \"app/eth1\" is not a network interface (write instance/ethN, e.g. \"fw/eth1\")",
                    at(20, 21)
                ),
            ]
        );
    }

    #[test]
    fn elastic_ip_names_are_valid_and_unique() {
        assert_eq!(
            errors(
                "[[elastic_ip]]\nname = \"eip-198-51-100-11\"\naddress = \"198.51.100.10\"\n\n[[elastic_ip]]\naddress = \"198.51.100.11\"\n\n[[elastic_ip]]\nname = \"x y\"\naddress = \"198.51.100.12\"\n\n[[elastic_ip]]\nname = \"eip-198-51-100-11\"\naddress = \"198.51.100.13\"\n"
            ),
            [
                format!(
                    "{}elastic_ip[1].name \"eip-198-51-100-11\" is already the name of elastic_ip 0",
                    at(6, 11)
                ),
                format!(
                    "{}elastic_ip[2].name \"x y\" is not a valid name (1 to 48 characters: letters, digits, '-', '_' and '.', starting with a letter or digit)",
                    at(9, 8)
                ),
                format!(
                    "{}elastic_ip[3].name \"eip-198-51-100-11\" is already the name of elastic_ip 0",
                    at(13, 8)
                ),
            ]
        );
    }

    #[test]
    fn an_elastic_ip_wins_over_a_public_ip() {
        let src = BASE.replace(
            "private_ip = \"10.0.1.20\"",
            "private_ip = \"10.0.1.20\"\npublic_ip = \"203.0.113.5\"",
        ) + "[[elastic_ip]]\naddress = \"198.51.100.10\"\ninstance = \"app\"\n";
        let t = parse(&src, "t.toml").unwrap();
        let app = eni(&t, "app");
        assert_eq!(t.eni(app).public_ip, Some(ip("203.0.113.5")));
        assert_eq!(t.eni_public_ip(app), Some(ip("198.51.100.10")));
        assert_eq!(
            t.public_mappings(),
            [(VpcId(0), ip("10.0.1.20"), ip("198.51.100.10"))]
        );
    }

    /// `n` Elastic IPs 198.51.100.1.. named e1.., unassociated.
    fn eips(n: usize) -> String {
        (1..=n)
            .map(|i| format!("[[elastic_ip]]\nname = \"e{i}\"\naddress = \"198.51.100.{i}\"\n\n"))
            .collect()
    }

    #[test]
    fn a_public_nat_gateway_pairs_elastic_ips_with_allocated_addresses() {
        // Written addresses (instances' and NAT gateways') are claimed first, then the
        // instances' missing ones are allocated, then the NAT gateways'.
        let src = BASE.replace("private_ip = \"10.0.1.20\"\n", "")
            + &eips(3)
            + "[[nat_gateway]]\nname = \"n1\"\nsubnet = \"a\"\nelastic_ips = [\"e1\", \"198.51.100.2\"]\n\n[[nat_gateway]]\nname = \"n2\"\nsubnet = \"a\"\nconnectivity = \"public\"\nelastic_ips = [\"e3\"]\nprivate_ips = [\"10.0.1.4\"]\n";
        let t = parse(&src, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.eni(eni(&t, "app")).private_ip, ip("10.0.1.5"));
        assert_eq!(
            t.nat_gateways,
            [
                NatGateway {
                    name: "n1".into(),
                    subnet: SubnetId(0),
                    connectivity: NatConnectivity::Public,
                    private_ips: vec![ip("10.0.1.6"), ip("10.0.1.7")],
                    source_ports: NAT_DEFAULT_PORTS,
                    max_connections_per_destination: 55_000,
                    deleted: false,
                },
                NatGateway {
                    name: "n2".into(),
                    subnet: SubnetId(0),
                    connectivity: NatConnectivity::Public,
                    private_ips: vec![ip("10.0.1.4")],
                    source_ports: NAT_DEFAULT_PORTS,
                    max_connections_per_destination: 55_000,
                    deleted: false,
                },
            ]
        );
        let associations: Vec<Option<EipAssociation>> =
            t.elastic_ips.iter().map(|e| e.association).collect();
        assert_eq!(
            associations,
            [
                Some(EipAssociation::NatGateway(NatGatewayId(0), 0)),
                Some(EipAssociation::NatGateway(NatGatewayId(0), 1)),
                Some(EipAssociation::NatGateway(NatGatewayId(1), 0)),
            ]
        );
        assert_eq!(
            t.nat_public_ips(NatGatewayId(0)),
            [Some(ip("198.51.100.1")), Some(ip("198.51.100.2"))]
        );
        assert_eq!(
            t.public_mappings(),
            [
                (VpcId(0), ip("10.0.1.6"), ip("198.51.100.1")),
                (VpcId(0), ip("10.0.1.7"), ip("198.51.100.2")),
                (VpcId(0), ip("10.0.1.4"), ip("198.51.100.3")),
            ]
        );
    }

    #[test]
    fn a_private_nat_gateway_has_addresses_and_no_elastic_ip() {
        let t = ok(
            "[[nat_gateway]]\nname = \"p1\"\nsubnet = \"b\"\nconnectivity = \"private\"\n\n[[nat_gateway]]\nname = \"p2\"\nsubnet = \"b\"\nconnectivity = \"private\"\nprivate_ips = [\"10.0.2.9\", \"10.0.2.4\"]\nsource_ports = \"1024-2047\"\n\n[[nat_gateway]]\nname = \"p3\"\nsubnet = \"o\"\nconnectivity = \"private\"\nelastic_ips = []\nsource_ports = \"5000\"\n",
        );
        let summary: Vec<(Vec<Ipv4Addr>, PortRange, u32)> = t
            .nat_gateways
            .iter()
            .map(|n| {
                assert_eq!(n.connectivity, NatConnectivity::Private);
                (
                    n.private_ips.clone(),
                    n.source_ports,
                    n.max_connections_per_destination,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (vec![ip("10.0.2.5")], NAT_DEFAULT_PORTS, 55_000),
                (
                    vec![ip("10.0.2.9"), ip("10.0.2.4")],
                    PortRange {
                        from: 1024,
                        to: 2047
                    },
                    1024
                ),
                (
                    vec![ip("10.1.1.4")],
                    PortRange {
                        from: 5000,
                        to: 5000
                    },
                    1
                ),
            ]
        );
        assert_eq!(t.nat_public_ips(NatGatewayId(0)), [None]);
        assert!(t.public_mappings().is_empty());
        let eight = "[\"10.0.2.4\", \"10.0.2.5\", \"10.0.2.6\", \"10.0.2.7\", \"10.0.2.8\", \"10.0.2.9\", \"10.0.2.10\", \"10.0.2.11\"]";
        let t = ok(&format!(
            "[[nat_gateway]]\nname = \"p\"\nsubnet = \"b\"\nconnectivity = \"private\"\nprivate_ips = {eight}\n"
        ));
        assert_eq!(t.nat_gateways[0].private_ips.len(), 8);
    }

    #[test]
    fn nat_gateway_connectivity_and_elastic_ip_counts() {
        let nine = "[\"e1\", \"e2\", \"e3\", \"e4\", \"e5\", \"e6\", \"e7\", \"e8\", \"e9\"]";
        let src = eips(9)
            + "[[nat_gateway]]\nname = \"n1\"\nsubnet = \"a\"\n\n"
            + &format!("[[nat_gateway]]\nname = \"n2\"\nsubnet = \"a\"\nelastic_ips = {nine}\n\n")
            + "[[nat_gateway]]\nname = \"n3\"\nsubnet = \"a\"\nconnectivity = \"private\"\nelastic_ips = [\"e1\"]\n\n"
            + "[[nat_gateway]]\nname = \"n4\"\nsubnet = \"a\"\nconnectivity = \"Public\"\nelastic_ips = [\"e1\"]\n\n"
            + "[[nat_gateway]]\nname = \"n5\"\nsubnet = \"zz\"\nelastic_ips = []\n";
        // 9 Elastic IPs take 36 lines.
        assert_eq!(
            errors(&src),
            [
                format!(
                    "{}nat_gateway[0].elastic_ips names 0 Elastic IPs; a public NAT gateway has 1 to 8 (or set connectivity = \"private\")",
                    at(38, 8)
                ),
                format!(
                    "{}nat_gateway[1].elastic_ips names 9 Elastic IPs; a public NAT gateway has 1 to 8 (or set connectivity = \"private\")",
                    at(44, 15)
                ),
                format!(
                    "{}nat_gateway[2].elastic_ips must be empty: a private NAT gateway has no Elastic IP",
                    at(50, 15)
                ),
                format!(
                    "{}nat_gateway[3].connectivity \"Public\" is not a connectivity type (write \"public\" or \"private\")",
                    at(55, 16)
                ),
                format!(
                    "{}nat_gateway[4].subnet \"zz\" is not a declared subnet",
                    at(60, 10)
                ),
                format!(
                    "{}nat_gateway[4].elastic_ips names 0 Elastic IPs; a public NAT gateway has 1 to 8 (or set connectivity = \"private\")",
                    at(61, 15)
                ),
            ]
        );
    }

    #[test]
    fn a_nat_gateways_elastic_ips_are_its_own() {
        let src = eips(2)
            + "[[elastic_ip]]\nname = \"web-eip\"\naddress = \"198.51.100.30\"\ninstance = \"web\"\n\n"
            + "[[nat_gateway]]\nname = \"n1\"\nsubnet = \"a\"\nelastic_ips = [\"e1\", \"198.51.100.1\", \"web-eip\"]\n\n"
            + "[[nat_gateway]]\nname = \"n2\"\nsubnet = \"a\"\nelastic_ips = [\"e1\", \"198.51.100.99\", \"nope\", \"e2\"]\n";
        assert_eq!(
            errors(&src),
            [
                format!(
                    "{}nat_gateway[0].elastic_ips[1] elastic_ip \"e1\" is already associated with nat_gateway \"n1\"",
                    at(17, 22)
                ),
                format!(
                    "{}nat_gateway[0].elastic_ips[2] elastic_ip \"web-eip\" is already associated with web/eth0",
                    at(17, 38)
                ),
                format!(
                    "{}nat_gateway[1].elastic_ips[0] elastic_ip \"e1\" is already associated with nat_gateway \"n1\"",
                    at(22, 16)
                ),
                format!(
                    "{}nat_gateway[1].elastic_ips[1] \"198.51.100.99\" is not the address or name of a declared elastic_ip",
                    at(22, 22)
                ),
                format!(
                    "{}nat_gateway[1].elastic_ips[2] \"nope\" is not the address or name of a declared elastic_ip",
                    at(22, 39)
                ),
            ]
        );
    }

    #[test]
    fn nat_gateway_private_addresses() {
        let src = eips(2)
            + "[[nat_gateway]]\nname = \"n1\"\nsubnet = \"a\"\nelastic_ips = [\"e1\", \"e2\"]\nprivate_ips = [\"10.0.1.30\"]\n\n"
            + "[[nat_gateway]]\nname = \"n2\"\nsubnet = \"a\"\nconnectivity = \"private\"\nprivate_ips = []\n\n"
            + "[[nat_gateway]]\nname = \"n3\"\nsubnet = \"a\"\nconnectivity = \"private\"\nprivate_ips = [\"10.0.1.10\", \"10.0.1.3\", \"10.0.2.4\", \"10.0.1.40\", \"10.0.1.40\", \"ten\"]\n\n"
            + "[[nat_gateway]]\nname = \"n4\"\nsubnet = \"a\"\nconnectivity = \"private\"\nprivate_ips = [\"10.0.1.40\"]\n";
        assert_eq!(
            errors(&src),
            [
                format!(
                    "{}nat_gateway[0].private_ips has 1 addresses; a public NAT gateway has exactly one per Elastic IP (2), or omit the key to have them allocated",
                    at(13, 15)
                ),
                format!(
                    "{}nat_gateway[1].private_ips has 0 addresses; a private NAT gateway has 1 to 8 (omit the key to have one allocated)",
                    at(19, 15)
                ),
                format!(
                    "{}nat_gateway[2].private_ips[0] 10.0.1.10 is already assigned to web/eth0",
                    at(25, 16)
                ),
                format!(
                    "{}nat_gateway[2].private_ips[1] 10.0.1.3 is reserved by AWS for future use of subnet \"a\" (10.0.1.0/24) and cannot be assigned",
                    at(25, 29)
                ),
                format!(
                    "{}nat_gateway[2].private_ips[2] 10.0.2.4 is outside subnet \"a\" (10.0.1.0/24)",
                    at(25, 41)
                ),
                format!(
                    "{}nat_gateway[2].private_ips[4] 10.0.1.40 is already assigned to nat_gateway \"n3\"",
                    at(25, 66)
                ),
                format!(
                    "{}nat_gateway[2].private_ips[5] \"ten\" is not an IPv4 address",
                    at(25, 79)
                ),
                format!(
                    "{}nat_gateway[3].private_ips[0] 10.0.1.40 is already assigned to nat_gateway \"n3\"",
                    at(31, 16)
                ),
            ]
        );
        // An address written for an instance and for a NAT gateway: the instance's is
        // claimed first, whatever the file order.
        let p = problems(
            "[[nat_gateway]]\nname = \"n\"\nsubnet = \"a\"\nconnectivity = \"private\"\nprivate_ips = [\"10.0.1.4\"]\n\n[[instance]]\nname = \"late\"\nsubnet = \"a\"\nprivate_ip = \"10.0.1.4\"\n",
        );
        assert_eq!(
            p,
            [Problem::AddressInUse {
                ip: ip("10.0.1.4"),
                owner: "late/eth0".into()
            }]
        );
        let nine = "[\"10.0.2.4\", \"10.0.2.5\", \"10.0.2.6\", \"10.0.2.7\", \"10.0.2.8\", \"10.0.2.9\", \"10.0.2.10\", \"10.0.2.11\", \"10.0.2.12\"]";
        assert_eq!(
            problems(&format!(
                "[[nat_gateway]]\nname = \"p\"\nsubnet = \"b\"\nconnectivity = \"private\"\nprivate_ips = {nine}\n"
            )),
            [Problem::PrivateNatAddressCount { count: 9 }]
        );
    }

    #[test]
    fn a_nat_gateway_in_a_full_subnet() {
        let mut src = BASE.replace("cidr = \"10.0.2.0/24\"", "cidr = \"10.0.2.0/28\"");
        for i in 4..15 {
            src += &format!("[[instance]]\nname = \"i{i}\"\nsubnet = \"b\"\n\n");
        }
        src += "[[nat_gateway]]\nname = \"n\"\nsubnet = \"b\"\nconnectivity = \"private\"\n";
        match parse(&src, "t.toml") {
            Err(ConfigError::Invalid(d)) => {
                assert_eq!(d.len(), 1);
                assert_eq!(d[0].field, "nat_gateway[0].subnet");
                assert!(
                    matches!(&d[0].problem, Problem::SubnetFull { subnet, .. } if subnet == "b")
                );
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn source_ports_are_a_range_inside_1024_to_65535() {
        let nat = |ports: &str| {
            format!(
                "[[nat_gateway]]\nname = \"p\"\nsubnet = \"b\"\nconnectivity = \"private\"\nsource_ports = \"{ports}\"\n"
            )
        };
        for (good, from, to, max) in [
            ("1024-65535", 1024, 65535, 55_000),
            ("1024-56023", 1024, 56023, 55_000),
            ("1024-56022", 1024, 56022, 54_999),
            ("40000-40009", 40000, 40009, 10),
            ("65535", 65535, 65535, 1),
        ] {
            let t = ok(&nat(good));
            let n = &t.nat_gateways[0];
            assert_eq!(n.source_ports, PortRange { from, to }, "{good}");
            assert_eq!(n.max_connections_per_destination, max, "{good}");
        }
        for bad in [
            "80-90",
            "1023",
            "2000-1500",
            "1024-65536",
            "x",
            "",
            "1024-",
            "-2000",
            "+2000",
            "1024 - 2000",
            "1024-2000-3000",
        ] {
            assert_eq!(
                problems(&nat(bad)),
                [Problem::BadSourcePorts(bad.into())],
                "{bad}"
            );
        }
        assert_eq!(
            errors(&nat("2000-1500")),
            [format!(
                "{}nat_gateway[0].source_ports \"2000-1500\" is not a source port range: write \"FROM-TO\" with 1024 <= FROM <= TO <= 65535, or one port",
                at(5, 16)
            )]
        );
    }

    #[test]
    fn nat_gateway_names_are_unique() {
        assert_eq!(
            errors(
                "[[nat_gateway]]\nname = \"n\"\nsubnet = \"b\"\nconnectivity = \"private\"\n\n[[nat_gateway]]\nname = \"n\"\nsubnet = \"b\"\nconnectivity = \"private\"\n"
            ),
            [format!(
                "{}nat_gateway[1].name \"n\" is already the name of nat_gateway 0",
                at(7, 8)
            )]
        );
    }

    /// A route table of VPC `main` with `routes`, and the gateways of `extra`.
    fn table(routes: &str, extra: &str) -> String {
        format!("[[route_table]]\nname = \"rt\"\nvpc = \"main\"\nroute = [{routes}]\n\n{extra}")
    }

    const GATEWAYS: &str = "[[internet_gateway]]\nname = \"igw\"\nvpc = \"main\"\n\n[[internet_gateway]]\nname = \"far-igw\"\nvpc = \"other\"\n\n[[internet_gateway]]\nname = \"spare\"\n\n[[nat_gateway]]\nname = \"nat\"\nsubnet = \"b\"\nconnectivity = \"private\"\n\n[[nat_gateway]]\nname = \"far-nat\"\nsubnet = \"o\"\nconnectivity = \"private\"\n";

    #[test]
    fn routes_to_gateways() {
        let t = ok(&table(
            "{ destination = \"0.0.0.0/0\", internet_gateway = \"igw\" }, { destination = \"192.168.0.0/16\", nat_gateway = \"nat\" }, { destination = \"10.0.2.0/24\", nat_gateway = \"nat\" }",
            GATEWAYS,
        ));
        let targets: Vec<RouteTarget> = t.route_tables[0].routes.iter().map(|r| r.target).collect();
        assert_eq!(
            targets,
            [
                RouteTarget::Local,
                RouteTarget::InternetGateway(InternetGatewayId(0)),
                RouteTarget::NatGateway(NatGatewayId(0)),
                RouteTarget::NatGateway(NatGatewayId(0)),
            ]
        );
        assert_eq!(
            errors(&table(
                "{ destination = \"0.0.0.0/0\", internet_gateway = \"spare\" }, { destination = \"1.0.0.0/8\", internet_gateway = \"far-igw\" }, { destination = \"2.0.0.0/8\", internet_gateway = \"none\" }",
                GATEWAYS,
            )),
            [
                format!(
                    "{}route_table[0].route[0].internet_gateway internet gateway \"spare\" is not attached to vpc \"main\" (it is detached)",
                    at(4, 58)
                ),
                format!(
                    "{}route_table[0].route[1].internet_gateway internet gateway \"far-igw\" is not attached to vpc \"main\" (it is attached to vpc \"other\")",
                    at(4, 117)
                ),
                format!(
                    "{}route_table[0].route[2].internet_gateway \"none\" is not a declared internet_gateway",
                    at(4, 178)
                ),
            ]
        );
        assert_eq!(
            errors(&table(
                "{ destination = \"0.0.0.0/0\", nat_gateway = \"far-nat\" }, { destination = \"1.0.0.0/8\", nat_gateway = \"none\" }",
                GATEWAYS,
            )),
            [
                format!(
                    "{}route_table[0].route[0].nat_gateway far-nat is in vpc \"other\", the route table in vpc \"main\"",
                    at(4, 53)
                ),
                format!(
                    "{}route_table[0].route[1].nat_gateway \"none\" is not a declared nat_gateway",
                    at(4, 109)
                ),
            ]
        );
        // Middlebox routing allows a NAT gateway, not an internet gateway.
        assert_eq!(
            errors(&table(
                "{ destination = \"10.0.2.0/24\", internet_gateway = \"igw\" }, { destination = \"10.0.2.0/25\", nat_gateway = \"nat\" }",
                GATEWAYS,
            )),
            [
                format!(
                    "{}route_table[0].route[0].destination 10.0.2.0/24 is more specific than the local route 10.0.0.0/16; AWS allows that only for a whole subnet's CIDR with a network interface or NAT gateway target",
                    at(4, 26)
                ),
                format!(
                    "{}route_table[0].route[1].destination 10.0.2.0/25 is more specific than the local route 10.0.0.0/16; AWS allows that only for a whole subnet's CIDR with a network interface or NAT gateway target",
                    at(4, 85)
                ),
            ]
        );
        assert_eq!(
            problems(&table(
                "{ destination = \"0.0.0.0/0\", internet_gateway = \"igw\", nat_gateway = \"nat\" }",
                GATEWAYS,
            )),
            [Problem::RouteTargetCount { found: 2 }]
        );
        assert_eq!(
            problems(&table(
                "{ destination = \"10.0.0.0/16\", nat_gateway = \"nat\" }",
                GATEWAYS,
            )),
            [Problem::ConflictsWithLocal {
                destination: "10.0.0.0/16".parse().unwrap()
            }]
        );
    }

    #[test]
    fn a_deleted_nat_gateway_is_kept_without_elastic_ips() {
        // What DeleteNatGateway leaves: the gateway, its addresses, no Elastic IP.
        let t = ok(&(eips(1)
            + "[[nat_gateway]]\nname = \"gone\"\nsubnet = \"b\"\nstate = \"deleted\"\nprivate_ips = [\"10.0.2.9\"]\n\n[[nat_gateway]]\nname = \"also-gone\"\nsubnet = \"b\"\nstate = \"deleted\"\n\n[[nat_gateway]]\nname = \"live\"\nsubnet = \"b\"\nstate = \"available\"\nelastic_ips = [\"e1\"]\n"));
        let nats: Vec<(&str, bool, NatConnectivity, Vec<Ipv4Addr>)> = t
            .nat_gateways
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.deleted,
                    n.connectivity,
                    n.private_ips.clone(),
                )
            })
            .collect();
        assert_eq!(
            nats,
            [
                ("gone", true, NatConnectivity::Public, vec![ip("10.0.2.9")]),
                (
                    "also-gone",
                    true,
                    NatConnectivity::Public,
                    vec![ip("10.0.2.4")]
                ),
                ("live", false, NatConnectivity::Public, vec![ip("10.0.2.5")]),
            ]
        );
        assert_eq!(
            t.elastic_ips[0].association,
            Some(EipAssociation::NatGateway(NatGatewayId(2), 0))
        );
        assert_eq!(t.public_mappings().len(), 1);
        assert_eq!(
            errors(
                &(eips(1)
                    + "[[nat_gateway]]\nname = \"gone\"\nsubnet = \"b\"\nstate = \"deleted\"\nelastic_ips = [\"e1\"]\nprivate_ips = []\n\n[[nat_gateway]]\nname = \"odd\"\nsubnet = \"b\"\nconnectivity = \"private\"\nstate = \"deleting\"\n")
            ),
            [
                format!(
                    "{}nat_gateway[0].elastic_ips must be empty: a deleted NAT gateway has no Elastic IP (deleting it disassociated them)",
                    at(9, 15)
                ),
                format!(
                    "{}nat_gateway[0].private_ips has 0 addresses; a deleted NAT gateway keeps 1 to 8 (omit the key to have one allocated)",
                    at(10, 15)
                ),
                format!(
                    "{}nat_gateway[1].state \"deleting\" is not a NAT gateway state (write \"available\" or \"deleted\")",
                    at(16, 9)
                ),
            ]
        );
    }

    #[test]
    fn a_route_state_is_what_its_target_makes_it() {
        let deleted_nat = GATEWAYS.replace(
            "name = \"nat\"\nsubnet = \"b\"\nconnectivity = \"private\"\n",
            "name = \"nat\"\nsubnet = \"b\"\nconnectivity = \"private\"\nstate = \"deleted\"\n",
        );
        // A route left by a detachment (to a detached gateway or one attached to
        // another VPC) is written blackhole; so may one to a deleted NAT gateway be.
        let t = ok(&table(
            "{ destination = \"0.0.0.0/0\", internet_gateway = \"spare\", state = \"blackhole\" }, { destination = \"1.0.0.0/8\", internet_gateway = \"far-igw\", state = \"blackhole\" }, { destination = \"2.0.0.0/8\", nat_gateway = \"nat\", state = \"blackhole\" }, { destination = \"3.0.0.0/8\", nat_gateway = \"nat\" }",
            &deleted_nat,
        ));
        let targets: Vec<RouteTarget> = t.route_tables[0].routes.iter().map(|r| r.target).collect();
        assert_eq!(
            targets,
            [
                RouteTarget::Local,
                RouteTarget::InternetGateway(InternetGatewayId(2)),
                RouteTarget::InternetGateway(InternetGatewayId(1)),
                RouteTarget::NatGateway(NatGatewayId(0)),
                RouteTarget::NatGateway(NatGatewayId(0)),
            ]
        );
        assert_eq!(
            errors(&table(
                "{ destination = \"0.0.0.0/0\", internet_gateway = \"igw\", state = \"blackhole\" }, { destination = \"1.0.0.0/8\", nat_gateway = \"nat\", state = \"active\" }, { destination = \"2.0.0.0/8\", internet_gateway = \"spare\", state = \"active\" }, { destination = \"5.0.0.0/8\", instance = \"app\", state = \"blackhole\" }, { destination = \"4.0.0.0/8\", nat_gateway = \"nat\", state = \"gone\" }",
                &deleted_nat,
            )),
            [
                format!(
                    "{}route_table[0].route[0].state is \"blackhole\", but internet gateway \"igw\" is attached to vpc \"main\"",
                    at(4, 73)
                ),
                format!(
                    "{}route_table[0].route[1].state is \"active\", but NAT gateway \"nat\" is deleted",
                    at(4, 146)
                ),
                format!(
                    "{}route_table[0].route[2].internet_gateway internet gateway \"spare\" is not attached to vpc \"main\" (it is detached)",
                    at(4, 206)
                ),
                format!(
                    "{}route_table[0].route[3].state is \"blackhole\", but a route to a network interface is active",
                    at(4, 290)
                ),
                format!(
                    "{}route_table[0].route[4].state \"gone\" is not a route state (write \"active\" or \"blackhole\")",
                    at(4, 363)
                ),
            ]
        );
    }

    #[test]
    fn one_run_reports_every_gateway_problem() {
        let e = errors(
            "[[internet_gateway]]\nname = \"g\"\nvpc = \"nope\"\n\n[[elastic_ip]]\naddress = \"1.2.3.4\"\n\n[[nat_gateway]]\nname = \"n\"\nsubnet = \"a\"\nelastic_ips = [\"1.2.3.4\"]\nsource_ports = \"1\"\n\n[[internet_host]]\nname = \"app\"\naddress = \"203.0.113.1\"\n",
        );
        assert_eq!(e.len(), 5, "{e:?}");
        let fields: Vec<String> = e
            .iter()
            .map(|d| d.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            fields,
            [
                format!("{}internet_gateway[0].vpc", at(3, 7)),
                format!("{}elastic_ip[0].address", at(6, 11)),
                format!("{}nat_gateway[0].elastic_ips[0]", at(11, 16)),
                format!("{}nat_gateway[0].source_ports", at(12, 16)),
                format!("{}internet_host[0].name", at(15, 8)),
            ]
        );
    }

    #[test]
    fn the_internet_example_is_as_its_comment_says() {
        let src = include_str!("../../../../config/internet.toml");
        let t = parse(src, "internet.toml").unwrap_or_else(|e| panic!("{e}"));
        let shop = eni(&t, "shop");
        assert_eq!(t.eni_public_ip(shop), Some(ip("203.0.113.20")));
        assert_eq!(
            t.public_mappings(),
            [(VpcId(0), ip("10.20.0.10"), ip("203.0.113.20"))]
        );
        let hide = &t.nat_gateways[0];
        assert_eq!(hide.connectivity, NatConnectivity::Private);
        assert_eq!(hide.private_ips, [ip("10.20.2.4")]);
        assert_eq!(hide.max_connections_per_destination, 10_000);
        assert_eq!(
            t.elastic_ips,
            [ElasticIp {
                name: "spare".into(),
                address: ip("198.51.100.99"),
                association: None
            }]
        );
        assert_eq!(t.internet_hosts[0].address, ip("203.0.113.50"));
        assert_eq!(t.vpc_internet_gateway(VpcId(0)), Some(InternetGatewayId(0)));
    }

    #[test]
    fn the_demo_has_an_internet_gateway_nat_gateways_and_an_internet_host() {
        let t = Topology::demo();
        let vpc = VpcId(0);
        assert_eq!(
            t.internet_gateways,
            [InternetGateway {
                name: "igw".into(),
                vpc: Some(vpc)
            }]
        );
        let subnet = |name: &str| {
            let i = t.subnets.iter().position(|s| s.name == name).unwrap();
            SubnetId(i as u32)
        };
        let nat = |name: &str, s: &str, private: &str| NatGateway {
            name: name.into(),
            subnet: subnet(s),
            connectivity: NatConnectivity::Public,
            private_ips: vec![ip(private)],
            source_ports: NAT_DEFAULT_PORTS,
            max_connections_per_destination: NAT_MAX_CONNECTIONS_PER_DESTINATION,
            deleted: false,
        };
        assert_eq!(
            t.nat_gateways,
            [
                nat("nat-a", "public-a", "10.0.1.5"),
                nat("nat-b", "public-b", "10.0.11.5")
            ]
        );
        let web = eni(&t, "web");
        assert_eq!(
            t.elastic_ips,
            [
                ElasticIp {
                    name: "web-eip".into(),
                    address: ip("198.51.100.10"),
                    association: Some(EipAssociation::Eni(web)),
                },
                ElasticIp {
                    name: "nat-a-eip".into(),
                    address: ip("198.51.100.20"),
                    association: Some(EipAssociation::NatGateway(NatGatewayId(0), 0)),
                },
                ElasticIp {
                    name: "nat-b-eip".into(),
                    address: ip("198.51.100.21"),
                    association: Some(EipAssociation::NatGateway(NatGatewayId(1), 0)),
                },
            ]
        );
        assert_eq!(
            t.internet_hosts,
            [
                InternetHost {
                    name: "internet".into(),
                    address: ip("203.0.113.10"),
                    dns_names: Vec::new(),
                    role: HostRole::Declared,
                },
                // The emulated Amazon S3 (docs/endpoints.md).
                InternetHost {
                    name: "s3".into(),
                    address: ip("192.0.2.80"),
                    dns_names: Vec::new(),
                    role: HostRole::Declared,
                }
            ]
        );
        assert_eq!(
            t.public_mappings(),
            [
                (vpc, ip("10.0.1.10"), ip("198.51.100.10")),
                (vpc, ip("10.0.1.5"), ip("198.51.100.20")),
                (vpc, ip("10.0.11.5"), ip("198.51.100.21")),
            ]
        );
        assert!(t.enis.iter().all(|e| e.public_ip.is_none()));

        // Route tables: the three declared ones, then the implicit main table.
        let tables: Vec<(&str, Vec<&str>, Vec<RouteTarget>)> = t
            .route_tables
            .iter()
            .enumerate()
            .map(|(i, rt)| {
                let subnets = t
                    .subnets
                    .iter()
                    .filter(|s| s.route_table.index() == i)
                    .map(|s| s.name.as_str())
                    .collect();
                let targets = rt.routes.iter().map(|r| r.target).collect();
                (rt.name.as_str(), subnets, targets)
            })
            .collect();
        assert_eq!(
            tables,
            [
                (
                    "public-rt",
                    vec!["public-a", "public-b"],
                    vec![
                        RouteTarget::Local,
                        RouteTarget::InternetGateway(InternetGatewayId(0))
                    ]
                ),
                (
                    "private-a-rt",
                    vec!["private-a"],
                    vec![RouteTarget::Local, RouteTarget::NatGateway(NatGatewayId(0))]
                ),
                (
                    "private-b-rt",
                    vec!["private-b"],
                    vec![RouteTarget::Local, RouteTarget::NatGateway(NatGatewayId(1))]
                ),
                ("demo-main", vec![], vec![RouteTarget::Local]),
            ]
        );
        let default_routes: Vec<String> = t.route_tables[..3]
            .iter()
            .map(|rt| rt.routes[1].destination.to_string())
            .collect();
        assert_eq!(default_routes, ["0.0.0.0/0"; 3]);
    }
}
