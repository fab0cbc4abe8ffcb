//! The control socket's DNS views and DHCP option set changes: `vpcctl
//! describe-dhcp-options`, `list-hosted-zones`, `list-resource-record-sets` (read from
//! the running topology) and `create-dhcp-options`, `associate-dhcp-options`,
//! `delete-dhcp-options` (vpc-config's edits, applied like every other change).

use vpc_api::{
    DhcpOptionsReport, DhcpOptionsSetReport, HostedZoneReport, HostedZonesReport, RecordSetReport,
    Request, VpcDhcpReport,
};
use vpc_config::edit::NewDhcpOptions;
use vpc_config::{DnsServer, Topology, VpcId, private_domain};
use vpc_ec2::ids::{self, Kind};

use crate::state::Shared;

/// The option sets and what each VPC's instances get.
pub fn dhcp_options(s: &Shared) -> DhcpOptionsReport {
    let dp = s.snapshot();
    dhcp_options_of(dp.topology())
}

fn dhcp_options_of(t: &Topology) -> DhcpOptionsReport {
    let sets = t
        .dhcp_options
        .iter()
        .map(|o| {
            let mut options: Vec<(String, Vec<String>)> = Vec::new();
            let strings = |v: &[std::net::Ipv4Addr]| v.iter().map(|a| a.to_string()).collect();
            if let Some(d) = &o.domain_name {
                options.push(("domain-name".into(), vec![d.clone()]));
            }
            if !o.domain_name_servers.is_empty() {
                let servers = o
                    .domain_name_servers
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                options.push(("domain-name-servers".into(), servers));
            }
            if !o.ntp_servers.is_empty() {
                options.push(("ntp-servers".into(), strings(&o.ntp_servers)));
            }
            if !o.netbios_name_servers.is_empty() {
                options.push((
                    "netbios-name-servers".into(),
                    strings(&o.netbios_name_servers),
                ));
            }
            if let Some(n) = o.netbios_node_type {
                options.push(("netbios-node-type".into(), vec![n.to_string()]));
            }
            DhcpOptionsSetReport {
                name: o.name.clone(),
                id: ids::id(Kind::DhcpOptions, &o.name),
                options,
            }
        })
        .collect();
    let vpcs = t
        .vpcs
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (domain, servers) = match v.dhcp_options {
                None => (
                    Some(private_domain(&v.region)),
                    vec![DnsServer::AmazonProvidedDns],
                ),
                Some(o) => {
                    let o = &t.dhcp_options[o.index()];
                    (o.domain_name.clone(), o.domain_name_servers.clone())
                }
            };
            let resolver = vpc_services::dns::dns_server(t, VpcId(i as u32));
            VpcDhcpReport {
                vpc: v.name.clone(),
                dhcp_options: v
                    .dhcp_options
                    .map(|o| t.dhcp_options[o.index()].name.clone()),
                domain_name: domain,
                name_servers: servers
                    .iter()
                    .map(|s| match s {
                        DnsServer::AmazonProvidedDns => resolver.to_string(),
                        DnsServer::Address(a) => a.to_string(),
                    })
                    .collect(),
            }
        })
        .collect();
    DhcpOptionsReport { sets, vpcs }
}

/// The private hosted zones with their record sets.
pub fn hosted_zones(s: &Shared) -> HostedZonesReport {
    let dp = s.snapshot();
    hosted_zones_of(dp.topology())
}

fn hosted_zones_of(t: &Topology) -> HostedZonesReport {
    let zones = t
        .private_hosted_zones
        .iter()
        .map(|z| HostedZoneReport {
            name: format!("{}.", z.name),
            vpcs: z.vpcs.iter().map(|&v| t.vpc(v).name.clone()).collect(),
            records: z
                .records
                .iter()
                .map(|r| RecordSetReport {
                    name: format!("{}.", r.name),
                    record_type: r.record_type.name().to_owned(),
                    ttl: r.ttl,
                    values: r.values.iter().map(|v| v.to_string()).collect(),
                })
                .collect(),
        })
        .collect();
    HostedZonesReport { zones }
}

/// Applies a DHCP option set request to `edited`: the request in words, and what was
/// done or why not; `None` for any other request.
pub fn edit(request: &Request, edited: &mut Topology) -> Option<(String, Result<String, String>)> {
    Some(match request {
        Request::CreateDhcpOptions {
            name,
            domain_name,
            domain_name_servers,
            ntp_servers,
            netbios_name_servers,
            netbios_node_type,
        } => {
            let new = NewDhcpOptions {
                name: name.clone(),
                domain_name: domain_name.clone(),
                domain_name_servers: domain_name_servers.clone(),
                ntp_servers: ntp_servers.clone(),
                netbios_name_servers: netbios_name_servers.clone(),
                netbios_node_type: *netbios_node_type,
            };
            (
                format!("create-dhcp-options {name}"),
                edited
                    .create_dhcp_options(&new)
                    .map_err(|e| e.to_string())
                    .map(|_| {
                        format!(
                            "created DHCP option set {name} ({})",
                            ids::id(Kind::DhcpOptions, name)
                        )
                    }),
            )
        }
        Request::AssociateDhcpOptions { name, vpc } => (
            format!("associate-dhcp-options --dhcp-options-id {name} --vpc-id {vpc}"),
            edited
                .associate_dhcp_options(name, vpc)
                .map_err(|e| e.to_string())
                .map(|_| format!("vpc {vpc} uses DHCP option set {name}")),
        ),
        Request::DeleteDhcpOptions { name } => (
            format!("delete-dhcp-options {name}"),
            edited
                .delete_dhcp_options(name)
                .map_err(|e| e.to_string())
                .map(|_| format!("deleted DHCP option set {name}")),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_views_show_sets_vpcs_and_zones() {
        let mut t = Topology::demo();
        let r = hosted_zones_of(&t);
        assert_eq!(r.zones[0].name, "demo.internal.");
        assert_eq!(r.zones[0].vpcs, ["demo"]);
        assert_eq!(
            r.zones[0].records[0],
            RecordSetReport {
                name: "web.demo.internal.".into(),
                record_type: "A".into(),
                ttl: 300,
                values: vec!["10.0.1.10".into()],
            }
        );
        let create = Request::CreateDhcpOptions {
            name: "corp".into(),
            domain_name: Some("corp.example".into()),
            domain_name_servers: vec!["AmazonProvidedDNS".into(), "10.0.0.53".into()],
            ntp_servers: Vec::new(),
            netbios_name_servers: Vec::new(),
            netbios_node_type: None,
        };
        let (words, result) = edit(&create, &mut t).unwrap_or_else(|| panic!("a DHCP request"));
        assert_eq!(words, "create-dhcp-options corp");
        assert!(result.is_ok(), "{result:?}");
        let associate = Request::AssociateDhcpOptions {
            name: "corp".into(),
            vpc: "demo".into(),
        };
        assert!(edit(&associate, &mut t).is_some_and(|(_, r)| r.is_ok()));
        let r = dhcp_options_of(&t);
        assert_eq!(
            r.sets[0].options[0],
            ("domain-name".into(), vec!["corp.example".into()])
        );
        assert_eq!(
            r.vpcs[0],
            VpcDhcpReport {
                vpc: "demo".into(),
                dhcp_options: Some("corp".into()),
                domain_name: Some("corp.example".into()),
                name_servers: vec!["10.0.0.2".into(), "10.0.0.53".into()],
            }
        );
        let delete = Request::DeleteDhcpOptions {
            name: "corp".into(),
        };
        assert!(edit(&delete, &mut t).is_some_and(|(_, r)| r.is_err()));
        assert!(edit(&Request::Status {}, &mut t).is_none());
    }
}
