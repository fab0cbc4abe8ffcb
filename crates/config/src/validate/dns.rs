//! Checks of the DNS resources, with AWS's rules:
//!
//! - `[[dhcp_options]]` (`CreateDhcpOptions`): a unique name and at least one option;
//!   `domain_name` one or more domain names separated by spaces; at most 4 each of
//!   `domain_name_servers` (IPv4 addresses or `AmazonProvidedDNS`), `ntp_servers` and
//!   `netbios_name_servers` (IPv4 addresses); `netbios_node_type` 1, 2, 4 or 8. A
//!   VPC's `dhcp_options` names one (`AssociateDhcpOptions`).
//! - `[[private_hosted_zone]]` (Route 53): the name is a domain name, unique in the
//!   file (vpcd keeps one zone per domain; AWS allows several with different VPCs, and
//!   refuses one VPC in two zones of the same domain: associate one zone with several
//!   VPCs instead); associated with at least one VPC, each once. Record sets: a name
//!   inside the zone (fully qualified if it ends in `.`, equals the zone or ends in
//!   `.<zone>`; `@` is the apex; relative otherwise), a type among A, AAAA, CNAME, MX
//!   and TXT, one set per (name, type), a TTL 0 to 2^31-1 (default 300), at least one
//!   value, each valid for the type (a CNAME exactly one, alone at its name and never
//!   at the apex; an MX `"<preference> <host>"`; a TXT at most 255 bytes); names in
//!   values are fully qualified, with or without the final dot.
//! - `[[internet_host]]`'s `dns_names`: domain names.

use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};

use toml::Spanned;

use super::Checker;
use crate::dns::*;
use crate::error::Problem;
use crate::raw::{RawDhcpOptions, RawHostedZone, RawRecordSet};
use crate::topology::VpcId;

/// What the DNS checks leave for `build`.
#[derive(Debug, Default)]
pub(super) struct Dns {
    /// The checked option sets.
    pub options: Vec<DhcpOptions>,
    /// Per VPC: its option set.
    pub vpc_options: Vec<Option<DhcpOptionsId>>,
    /// The checked zones.
    pub zones: Vec<PrivateHostedZone>,
}

impl Checker<'_, '_, '_> {
    /// Option sets, the VPCs' references to them, hosted zones, hosts' names.
    pub(super) fn dns(&mut self) {
        let raw = self.raw;
        let names = super::names(
            self.r,
            "dhcp_options",
            raw.dhcp_options.iter().map(|o| &o.name),
        );
        for (i, o) in raw.dhcp_options.iter().enumerate() {
            if let Some(o) = self.dhcp_option_set(i, o) {
                self.dns.options.push(o);
            }
        }
        for (i, v) in raw.vpc.iter().enumerate() {
            let id = v.dhcp_options.as_ref().and_then(|n| {
                let found = names.get(n.get_ref().as_str());
                if found.is_none() {
                    let problem = DnsProblem::UnknownDhcpOptions(n.get_ref().clone());
                    self.r
                        .report(n.span(), format!("vpc[{i}].dhcp_options"), problem.into());
                }
                found.map(|&k| DhcpOptionsId(k as u32))
            });
            self.dns.vpc_options.push(id);
        }
        let mut zone_names: HashMap<String, usize> = HashMap::new();
        for (i, z) in raw.private_hosted_zone.iter().enumerate() {
            let field = format!("private_hosted_zone[{i}].name");
            let Some(name) = self.domain(&z.name, field.clone()) else {
                continue;
            };
            if zone_names.insert(name.clone(), i).is_some() {
                let problem = DnsProblem::DuplicateZone(name.clone());
                self.r.report(z.name.span(), field, problem.into());
                continue;
            }
            if let Some(zone) = self.zone(i, z, name) {
                self.dns.zones.push(zone);
            }
        }
        for (i, h) in raw.internet_host.iter().enumerate() {
            for (j, n) in h.dns_names.iter().enumerate() {
                self.domain(n, format!("internet_host[{i}].dns_names[{j}]"));
            }
        }
    }

    /// A domain name in canonical form, or a report.
    fn domain(&mut self, s: &Spanned<String>, field: String) -> Option<String> {
        let canonical = canonical_domain(s.get_ref());
        if canonical.is_none() {
            let problem = DnsProblem::BadDomain(s.get_ref().clone());
            self.r.report(s.span(), field, problem.into());
        }
        canonical
    }

    fn dhcp_option_set(&mut self, i: usize, o: &RawDhcpOptions) -> Option<DhcpOptions> {
        let path = format!("dhcp_options[{i}]");
        let mut ok = true;
        let domain_name = match &o.domain_name {
            None => None,
            Some(d) => {
                let parts: Option<Vec<String>> = d
                    .get_ref()
                    .split_whitespace()
                    .map(canonical_domain)
                    .collect();
                match parts.filter(|p| !p.is_empty()) {
                    Some(p) => Some(p.join(" ")),
                    None => {
                        let problem = DnsProblem::BadDomain(d.get_ref().clone());
                        self.r
                            .report(d.span(), format!("{path}.domain_name"), problem.into());
                        ok = false;
                        None
                    }
                }
            }
        };
        let mut servers = Vec::new();
        if let Some(list) = &o.domain_name_servers {
            ok &= self.server_count(list, format!("{path}.domain_name_servers"));
            for (j, s) in list.get_ref().iter().enumerate() {
                let text = s.get_ref();
                if text == AMAZON_PROVIDED_DNS {
                    servers.push(DnsServer::AmazonProvidedDns);
                } else if let Ok(a) = text.parse::<Ipv4Addr>() {
                    servers.push(DnsServer::Address(a));
                } else {
                    let problem = DnsProblem::BadDnsServer(text.clone());
                    let field = format!("{path}.domain_name_servers[{j}]");
                    self.r.report(s.span(), field, problem.into());
                    ok = false;
                }
            }
        }
        let ntp = self.dhcp_addresses(o.ntp_servers.as_ref(), format!("{path}.ntp_servers"));
        let netbios = self.dhcp_addresses(
            o.netbios_name_servers.as_ref(),
            format!("{path}.netbios_name_servers"),
        );
        let node_type = match &o.netbios_node_type {
            None => None,
            Some(n) => match *n.get_ref() {
                v @ (1 | 2 | 4 | 8) => Some(v as u8),
                v => {
                    let field = format!("{path}.netbios_node_type");
                    self.r
                        .report(n.span(), field, DnsProblem::BadNodeType(v).into());
                    ok = false;
                    None
                }
            },
        };
        if o.domain_name.is_none()
            && o.domain_name_servers.is_none()
            && o.ntp_servers.is_none()
            && o.netbios_name_servers.is_none()
            && o.netbios_node_type.is_none()
        {
            let problem = DnsProblem::EmptyDhcpOptions;
            self.r
                .report(o.name.span(), format!("{path}.name"), problem.into());
            ok = false;
        }
        Some(DhcpOptions {
            name: o.name.get_ref().clone(),
            domain_name,
            domain_name_servers: servers,
            ntp_servers: ntp?,
            netbios_name_servers: netbios?,
            netbios_node_type: node_type,
        })
        .filter(|_| ok)
    }

    /// At most [`MAX_DHCP_SERVERS`] values.
    fn server_count(&mut self, list: &Spanned<Vec<Spanned<String>>>, field: String) -> bool {
        let n = list.get_ref().len();
        if n > MAX_DHCP_SERVERS {
            self.r
                .report(list.span(), field, DnsProblem::TooManyServers(n).into());
        }
        n <= MAX_DHCP_SERVERS
    }

    /// A list of at most 4 IPv4 addresses.
    fn dhcp_addresses(
        &mut self,
        list: Option<&Spanned<Vec<Spanned<String>>>>,
        field: String,
    ) -> Option<Vec<Ipv4Addr>> {
        let Some(list) = list else {
            return Some(Vec::new());
        };
        let mut ok = self.server_count(list, field.clone());
        let mut out = Vec::new();
        for (j, s) in list.get_ref().iter().enumerate() {
            match s.get_ref().parse::<Ipv4Addr>() {
                Ok(a) => out.push(a),
                Err(_) => {
                    let problem = DnsProblem::BadAddress(s.get_ref().clone());
                    self.r
                        .report(s.span(), format!("{field}[{j}]"), problem.into());
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn zone(&mut self, i: usize, z: &RawHostedZone, name: String) -> Option<PrivateHostedZone> {
        let path = format!("private_hosted_zone[{i}]");
        let mut ok = true;
        let mut vpcs = Vec::new();
        if z.vpcs.get_ref().is_empty() {
            self.r.report(
                z.vpcs.span(),
                format!("{path}.vpcs"),
                DnsProblem::NoVpc.into(),
            );
            ok = false;
        }
        for (j, v) in z.vpcs.get_ref().iter().enumerate() {
            let field = format!("{path}.vpcs[{j}]");
            match self.vpc_names.get(v.get_ref().as_str()) {
                None => {
                    let problem = Problem::UnknownVpc(v.get_ref().clone());
                    self.r.report(v.span(), field, problem);
                    ok = false;
                }
                Some(&k) if vpcs.contains(&VpcId(k as u32)) => {
                    let problem = DnsProblem::DuplicateVpc(v.get_ref().clone());
                    self.r.report(v.span(), field, problem.into());
                    ok = false;
                }
                Some(&k) => vpcs.push(VpcId(k as u32)),
            }
        }
        // (index written, record set)
        let mut records: Vec<(usize, RecordSet)> = Vec::new();
        for (j, r) in z.records.iter().enumerate() {
            let field = format!("{path}.records[{j}]");
            let Some(set) = self.record_set(&name, r.get_ref(), &field) else {
                ok = false;
                continue;
            };
            let same = records
                .iter()
                .any(|(_, o)| o.name == set.name && o.record_type == set.record_type);
            if same {
                let problem = DnsProblem::DuplicateRecordSet {
                    name: set.name.clone(),
                    record_type: set.record_type,
                };
                self.r.report(r.span(), field, problem.into());
                ok = false;
            } else {
                records.push((j, set));
            }
        }
        // A CNAME is alone at its name and never at the apex.
        let mut types: HashMap<&str, BTreeSet<DnsRecordType>> = HashMap::new();
        for (_, r) in &records {
            types.entry(&r.name).or_default().insert(r.record_type);
        }
        for (j, set) in &records {
            let crowded = types.get(set.name.as_str()).is_some_and(|t| t.len() > 1);
            if set.record_type == DnsRecordType::Cname && (set.name == name || crowded) {
                let problem = DnsProblem::CnameNotAlone(set.name.clone());
                let span = z.records[*j].span();
                self.r
                    .report(span, format!("{path}.records[{j}]"), problem.into());
                ok = false;
            }
        }
        let records = records.into_iter().map(|(_, r)| r).collect();
        ok.then_some(PrivateHostedZone {
            name,
            vpcs,
            records,
        })
    }

    fn record_set(&mut self, zone: &str, r: &RawRecordSet, field: &str) -> Option<RecordSet> {
        let Some(name) = record_name(zone, r.name.get_ref()) else {
            let problem = match r.name.get_ref().as_str() {
                n if canonical_domain(n).is_none() => DnsProblem::BadDomain(n.to_owned()),
                n => DnsProblem::OutsideZone {
                    name: n.to_owned(),
                    zone: zone.to_owned(),
                },
            };
            self.r
                .report(r.name.span(), format!("{field}.name"), problem.into());
            return None;
        };
        let text = r.record_type.get_ref();
        let Some(record_type) = DnsRecordType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(text))
        else {
            let problem = DnsProblem::BadRecordType(text.clone());
            self.r.report(
                r.record_type.span(),
                format!("{field}.type"),
                problem.into(),
            );
            return None;
        };
        let ttl = match &r.ttl {
            None => DEFAULT_RECORD_TTL,
            Some(t) => match u32::try_from(*t.get_ref()) {
                Ok(v) if v <= i32::MAX as u32 => v,
                _ => {
                    let problem = DnsProblem::BadTtl(*t.get_ref());
                    self.r
                        .report(t.span(), format!("{field}.ttl"), problem.into());
                    return None;
                }
            },
        };
        let list = r.values.get_ref();
        if list.is_empty() || (record_type == DnsRecordType::Cname && list.len() > 1) {
            let problem = DnsProblem::BadValueCount;
            self.r
                .report(r.values.span(), format!("{field}.values"), problem.into());
            return None;
        }
        let mut values = Vec::new();
        for (k, v) in list.iter().enumerate() {
            match record_value(record_type, v.get_ref()) {
                Some(value) => values.push(value),
                None => {
                    let problem = DnsProblem::BadValue {
                        value: v.get_ref().clone(),
                        record_type,
                    };
                    self.r
                        .report(v.span(), format!("{field}.values[{k}]"), problem.into());
                    return None;
                }
            }
        }
        Some(RecordSet {
            name,
            record_type,
            ttl,
            values,
        })
    }
}

/// The fully qualified canonical name of record name `written` in `zone`, if it is a
/// name inside the zone.
pub(crate) fn record_name(zone: &str, written: &str) -> Option<String> {
    if written == "@" {
        return Some(zone.to_owned());
    }
    let canonical = canonical_domain(written)?;
    let qualified = written.ends_with('.') || in_domain(&canonical, zone);
    let name = if qualified {
        canonical
    } else {
        format!("{canonical}.{zone}")
    };
    (name.len() <= 253 && in_domain(&name, zone)).then_some(name)
}

/// One value of a record set of type `t`, if it is valid.
fn record_value(t: DnsRecordType, v: &str) -> Option<RecordValue> {
    match t {
        DnsRecordType::A => v.parse().ok().map(RecordValue::A),
        DnsRecordType::Aaaa => v.parse::<Ipv6Addr>().ok().map(RecordValue::Aaaa),
        DnsRecordType::Cname => canonical_domain(v).map(RecordValue::Cname),
        DnsRecordType::Mx => {
            let (preference, host) = v.split_once(' ')?;
            Some(RecordValue::Mx {
                preference: preference.parse().ok()?,
                exchange: canonical_domain(host.trim())?,
            })
        }
        DnsRecordType::Txt => (v.len() <= 255).then(|| RecordValue::Txt(v.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use crate::*;

    /// A valid network; a snippet appended to it starts on line `BASE_LINES + 1`.
    const BASE: &str = r#"[[vpc]]
name = "main"
cidr = "10.0.0.0/16"

[[vpc]]
name = "other"
cidr = "10.1.0.0/16"
"#;
    const BASE_LINES: usize = 7;
    snippet_helpers!();

    #[test]
    fn option_sets_follow_aws_rules() {
        let t = ok(r#"dhcp_options = "corp"
[[dhcp_options]]
name = "corp"
domain_name = "Corp.Example a.example"
domain_name_servers = ["AmazonProvidedDNS", "10.0.0.53"]
ntp_servers = ["169.254.169.123"]
netbios_node_type = 2
"#);
        assert_eq!(t.vpcs[1].dhcp_options, Some(DhcpOptionsId(0)));
        assert_eq!(t.vpcs[0].dhcp_options, None);
        let o = &t.dhcp_options[0];
        assert_eq!(o.domain_name.as_deref(), Some("corp.example a.example"));
        assert_eq!(
            o.domain_name_servers,
            vec![
                DnsServer::AmazonProvidedDns,
                DnsServer::Address("10.0.0.53".parse().unwrap())
            ]
        );
        assert_eq!(o.netbios_node_type, Some(2));

        assert_eq!(
            errors(
                r#"dhcp_options = "nope"
[[dhcp_options]]
name = "bad"
domain_name_servers = ["8.8.8.8", "x", "1.1.1.1", "1.0.0.1", "9.9.9.9"]
netbios_node_type = 3
[[dhcp_options]]
name = "empty"
"#
            ),
            vec![
                format!(
                    "{}vpc[1].dhcp_options no dhcp_options named \"nope\"",
                    at(1, 16)
                ),
                format!(
                    "{}dhcp_options[0].domain_name_servers has 5 values; AWS takes at most 4",
                    at(4, 23)
                ),
                format!(
                    "{}dhcp_options[0].domain_name_servers[1] \"x\" is neither an IPv4 address nor AmazonProvidedDNS",
                    at(4, 35)
                ),
                format!(
                    "{}dhcp_options[0].netbios_node_type netbios_node_type 3 is not 1, 2, 4 or 8",
                    at(5, 21)
                ),
                format!(
                    "{}dhcp_options[1].name a DHCP option set has at least one option",
                    at(7, 8)
                ),
            ]
        );
    }

    #[test]
    fn hosted_zones_follow_route53_rules() {
        let t = ok(r#"
[[private_hosted_zone]]
name = "Demo.Internal."
vpcs = ["main", "other"]
records = [
  { name = "web", type = "A", ttl = 60, values = ["10.0.1.10", "10.0.1.11"] },
  { name = "db.demo.internal.", type = "a", values = ["10.0.12.10"] },
  { name = "www.demo.internal", type = "CNAME", values = ["web.demo.internal."] },
  { name = "@", type = "MX", values = ["10 mail.demo.internal"] },
  { name = "@", type = "TXT", values = ["v=spf1 -all"] },
]
"#);
        let z = &t.private_hosted_zones[0];
        assert_eq!(z.name, "demo.internal");
        assert_eq!(z.vpcs, vec![VpcId(0), VpcId(1)]);
        let names: Vec<&str> = z.records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "web.demo.internal",
                "db.demo.internal",
                "www.demo.internal",
                "demo.internal",
                "demo.internal"
            ]
        );
        assert_eq!(z.records[0].ttl, 60);
        assert_eq!(z.records[1].ttl, 300);
        assert_eq!(
            z.records[2].values,
            vec![RecordValue::Cname("web.demo.internal".into())]
        );
        assert_eq!(
            z.records[3].values,
            vec![RecordValue::Mx {
                preference: 10,
                exchange: "mail.demo.internal".into()
            }]
        );

        let e = errors(
            r#"
[[private_hosted_zone]]
name = "z.internal"
vpcs = ["nope"]
records = [
  { name = "x.other.", type = "A", values = ["10.0.0.1"] },
  { name = "a", type = "SRV", values = ["x"] },
  { name = "b", type = "A", values = ["10.0.0.300"] },
  { name = "c", type = "CNAME", values = ["x.z.internal"] },
  { name = "c", type = "TXT", values = ["t"] },
  { name = "d", type = "A", values = ["10.0.0.1"] },
  { name = "d", type = "A", values = ["10.0.0.2"] },
  { name = "e", type = "A", ttl = -1, values = ["10.0.0.1"] },
]
[[private_hosted_zone]]
name = "z.internal"
vpcs = []
"#,
        );
        assert_eq!(
            e,
            vec![
                format!(
                    "{}private_hosted_zone[0].vpcs[0] \"nope\" is not a declared vpc",
                    at(4, 9)
                ),
                format!(
                    "{}private_hosted_zone[0].records[0].name \"x.other.\" is not in zone \"z.internal\"",
                    at(6, 12)
                ),
                format!(
                    "{}private_hosted_zone[0].records[1].type record type \"SRV\" is not supported: A, AAAA, CNAME, MX or TXT",
                    at(7, 24)
                ),
                format!(
                    "{}private_hosted_zone[0].records[2].values[0] \"10.0.0.300\" is not a valid A value",
                    at(8, 39)
                ),
                format!(
                    "{}private_hosted_zone[0].records[3] a CNAME record is alone at its name and never at the zone's apex (c.z.internal)",
                    at(9, 3)
                ),
                format!(
                    "{}private_hosted_zone[0].records[6] d.z.internal A is defined twice: give one record set several values",
                    at(12, 3)
                ),
                format!(
                    "{}private_hosted_zone[0].records[7].ttl ttl -1 is outside 0 to 2147483647",
                    at(13, 35)
                ),
                format!(
                    "{}private_hosted_zone[1].name private hosted zone \"z.internal\" is declared twice: associate one zone with several VPCs",
                    at(16, 8)
                ),
            ]
        );
    }

    #[test]
    fn a_cname_is_never_at_the_apex() {
        assert_eq!(
            errors(
                r#"
[[private_hosted_zone]]
name = "z.internal"
vpcs = ["main"]
records = [{ name = "@", type = "CNAME", values = ["x.example"] }]
"#
            ),
            vec![format!(
                "{}private_hosted_zone[0].records[0] a CNAME record is alone at its name and never at the zone's apex (z.internal)",
                at(5, 12)
            )]
        );
    }

    #[test]
    fn internet_hosts_have_dns_names() {
        let t = ok(r#"
[[internet_host]]
name = "example.com"
address = "198.51.100.80"
dns_names = ["WWW.example.com"]
"#);
        assert_eq!(t.internet_hosts[0].dns_names, vec!["www.example.com"]);
        assert_eq!(
            errors(
                r#"
[[internet_host]]
name = "h"
address = "198.51.100.80"
dns_names = ["a..b"]
"#
            ),
            vec![format!(
                "{}internet_host[0].dns_names[0] \"a..b\" is not a domain name (labels of 1 to 63 letters, digits, '-' or '_', 253 characters at most)",
                at(5, 14)
            )]
        );
    }
}
