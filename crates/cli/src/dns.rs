//! vpcctl's DNS commands: `describe-dhcp-options`, `create-dhcp-options`,
//! `associate-dhcp-options`, `delete-dhcp-options` (named like the AWS CLI's `ec2`
//! commands), and the read-only views of the private hosted zones named like the AWS
//! CLI's `route53` commands: `list-hosted-zones`, `list-resource-record-sets
//! --hosted-zone NAME`.

use std::io::{self, Write};

use clap::Subcommand;
use vpc_api::{DhcpOptionsReport, HostedZonesReport, Request, Response};

use super::{CtlError, table};

#[derive(Debug, Subcommand)]
pub(crate) enum DnsCommand {
    /// DHCP option sets (ID, options), and per VPC its set and the search domain and
    /// name servers its instances get.
    DescribeDhcpOptions,
    /// Create a DHCP option set (at least one option).
    CreateDhcpOptions {
        /// Its name.
        name: String,
        /// `domain-name`: one domain, or several separated by spaces.
        #[arg(long, value_name = "DOMAIN")]
        domain_name: Option<String>,
        /// `domain-name-servers`: addresses or AmazonProvidedDNS, comma-separated.
        #[arg(long, value_name = "SERVERS", value_delimiter = ',')]
        domain_name_servers: Vec<String>,
        /// `ntp-servers`, comma-separated.
        #[arg(long, value_name = "IPS", value_delimiter = ',')]
        ntp_servers: Vec<String>,
        /// `netbios-name-servers`, comma-separated.
        #[arg(long, value_name = "IPS", value_delimiter = ',')]
        netbios_name_servers: Vec<String>,
        /// `netbios-node-type`: 1, 2, 4 or 8.
        #[arg(long, value_name = "N")]
        netbios_node_type: Option<u8>,
    },
    /// Make a VPC use a DHCP option set (`default`: none, AWS's defaults).
    AssociateDhcpOptions {
        /// The set's name, or `default`.
        #[arg(long = "dhcp-options-id", value_name = "NAME")]
        name: String,
        /// The VPC.
        #[arg(long = "vpc-id", value_name = "VPC")]
        vpc: String,
    },
    /// Delete a DHCP option set no VPC uses.
    DeleteDhcpOptions {
        /// Its name.
        #[arg(long = "dhcp-options-id", value_name = "NAME")]
        name: String,
    },
    /// Private hosted zones: domain, record set count, associated VPCs.
    ListHostedZones,
    /// The record sets of a private hosted zone (SOA and NS aside).
    ListResourceRecordSets {
        /// The zone's domain.
        #[arg(long, value_name = "NAME")]
        hosted_zone: String,
    },
}

impl DnsCommand {
    /// The request the command sends.
    pub(crate) fn request(&self) -> Request {
        match self {
            DnsCommand::DescribeDhcpOptions => Request::DhcpOptions {},
            DnsCommand::CreateDhcpOptions {
                name,
                domain_name,
                domain_name_servers,
                ntp_servers,
                netbios_name_servers,
                netbios_node_type,
            } => Request::CreateDhcpOptions {
                name: name.clone(),
                domain_name: domain_name.clone(),
                domain_name_servers: domain_name_servers.clone(),
                ntp_servers: ntp_servers.clone(),
                netbios_name_servers: netbios_name_servers.clone(),
                netbios_node_type: *netbios_node_type,
            },
            DnsCommand::AssociateDhcpOptions { name, vpc } => Request::AssociateDhcpOptions {
                name: name.clone(),
                vpc: vpc.clone(),
            },
            DnsCommand::DeleteDhcpOptions { name } => {
                Request::DeleteDhcpOptions { name: name.clone() }
            }
            DnsCommand::ListHostedZones | DnsCommand::ListResourceRecordSets { .. } => {
                Request::HostedZones {}
            }
        }
    }

    /// Prints the daemon's answer.
    pub(crate) fn print(&self, out: &mut impl Write, response: Response) -> Result<(), CtlError> {
        match (response, self) {
            (Response::DhcpOptions(r), DnsCommand::DescribeDhcpOptions) => {
                print_dhcp_options(out, &r)?
            }
            (Response::HostedZones(r), DnsCommand::ListHostedZones) => print_hosted_zones(out, &r)?,
            (Response::HostedZones(r), DnsCommand::ListResourceRecordSets { hosted_zone }) => {
                print_record_sets(out, &r, hosted_zone)?
            }
            (
                Response::Done { message },
                DnsCommand::CreateDhcpOptions { .. }
                | DnsCommand::AssociateDhcpOptions { .. }
                | DnsCommand::DeleteDhcpOptions { .. },
            ) => writeln!(out, "{message}")?,
            _ => return Err(CtlError::Unexpected),
        }
        Ok(())
    }
}

fn print_dhcp_options(out: &mut impl Write, r: &DhcpOptionsReport) -> io::Result<()> {
    let rows: Vec<Vec<String>> = r
        .sets
        .iter()
        .flat_map(|s| {
            s.options
                .iter()
                .map(|(k, v)| vec![s.name.clone(), s.id.clone(), k.clone(), v.join(", ")])
        })
        .collect();
    if rows.is_empty() {
        writeln!(out, "no DHCP option sets")?;
    } else {
        table(out, &["NAME", "ID", "KEY", "VALUES"], &rows)?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = r
        .vpcs
        .iter()
        .map(|v| {
            vec![
                v.vpc.clone(),
                v.dhcp_options.clone().unwrap_or_else(|| "default".into()),
                v.domain_name.clone().unwrap_or_else(|| "-".into()),
                if v.name_servers.is_empty() {
                    "-".into()
                } else {
                    v.name_servers.join(", ")
                },
            ]
        })
        .collect();
    table(
        out,
        &["VPC", "DHCP OPTIONS", "SEARCH", "NAME SERVERS"],
        &rows,
    )
}

fn print_hosted_zones(out: &mut impl Write, r: &HostedZonesReport) -> io::Result<()> {
    if r.zones.is_empty() {
        return writeln!(out, "no private hosted zones");
    }
    let rows: Vec<Vec<String>> = r
        .zones
        .iter()
        .map(|z| {
            vec![
                z.name.clone(),
                "private".into(),
                z.records.len().to_string(),
                z.vpcs.join(", "),
            ]
        })
        .collect();
    table(out, &["NAME", "TYPE", "RECORD SETS", "VPCS"], &rows)
}

fn print_record_sets(out: &mut impl Write, r: &HostedZonesReport, zone: &str) -> io::Result<()> {
    let wanted = zone.trim_end_matches('.').to_ascii_lowercase();
    let Some(z) = r
        .zones
        .iter()
        .find(|z| z.name.trim_end_matches('.') == wanted)
    else {
        return Err(io::Error::other(format!("no private hosted zone {zone:?}")));
    };
    let rows: Vec<Vec<String>> = z
        .records
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.record_type.clone(),
                s.ttl.to_string(),
                s.values.join(", "),
            ]
        })
        .collect();
    table(out, &["NAME", "TYPE", "TTL", "VALUES"], &rows)
}

#[cfg(test)]
mod tests {
    use vpc_api::{DhcpOptionsSetReport, HostedZoneReport, RecordSetReport, VpcDhcpReport};

    use super::*;

    fn zones() -> HostedZonesReport {
        HostedZonesReport {
            zones: vec![HostedZoneReport {
                name: "demo.internal.".into(),
                vpcs: vec!["demo".into()],
                records: vec![RecordSetReport {
                    name: "web.demo.internal.".into(),
                    record_type: "A".into(),
                    ttl: 300,
                    values: vec!["10.0.1.10".into()],
                }],
            }],
        }
    }

    fn printed(c: &DnsCommand, r: Response) -> String {
        let mut out = Vec::new();
        c.print(&mut out, r).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(out).unwrap_or_default()
    }

    /// The request a command line sends.
    fn parsed(args: &[&str]) -> Request {
        use clap::Parser;
        let cli = crate::Cli::try_parse_from(std::iter::once("vpcctl").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        crate::request(&cli.command)
    }

    #[test]
    fn commands_parse_into_their_requests() {
        assert_eq!(
            parsed(&[
                "create-dhcp-options",
                "corp",
                "--domain-name",
                "corp.example",
                "--domain-name-servers",
                "AmazonProvidedDNS,10.0.0.53",
                "--netbios-node-type",
                "2",
            ]),
            Request::CreateDhcpOptions {
                name: "corp".into(),
                domain_name: Some("corp.example".into()),
                domain_name_servers: vec!["AmazonProvidedDNS".into(), "10.0.0.53".into()],
                ntp_servers: Vec::new(),
                netbios_name_servers: Vec::new(),
                netbios_node_type: Some(2),
            }
        );
        assert_eq!(
            parsed(&[
                "associate-dhcp-options",
                "--dhcp-options-id",
                "default",
                "--vpc-id",
                "demo"
            ]),
            Request::AssociateDhcpOptions {
                name: "default".into(),
                vpc: "demo".into()
            }
        );
        assert_eq!(
            parsed(&["delete-dhcp-options", "--dhcp-options-id", "corp"]),
            Request::DeleteDhcpOptions {
                name: "corp".into()
            }
        );
        assert_eq!(parsed(&["describe-dhcp-options"]), Request::DhcpOptions {});
        assert_eq!(
            parsed(&[
                "list-resource-record-sets",
                "--hosted-zone",
                "demo.internal"
            ]),
            Request::HostedZones {}
        );
    }

    #[test]
    fn hosted_zones_and_record_sets_print_as_tables() {
        assert_eq!(
            printed(&DnsCommand::ListHostedZones, Response::HostedZones(zones())),
            "NAME            TYPE     RECORD SETS  VPCS\n\
             demo.internal.  private  1            demo\n"
        );
        let c = DnsCommand::ListResourceRecordSets {
            hosted_zone: "Demo.Internal".into(),
        };
        assert_eq!(c.request(), Request::HostedZones {});
        assert_eq!(
            printed(&c, Response::HostedZones(zones())),
            "NAME                TYPE  TTL  VALUES\n\
             web.demo.internal.  A     300  10.0.1.10\n"
        );
        let c = DnsCommand::ListResourceRecordSets {
            hosted_zone: "nope".into(),
        };
        assert!(
            c.print(&mut Vec::new(), Response::HostedZones(zones()))
                .is_err()
        );
    }

    #[test]
    fn dhcp_options_print_sets_and_vpcs() {
        let r = DhcpOptionsReport {
            sets: vec![DhcpOptionsSetReport {
                name: "corp".into(),
                id: "dopt-0123456789abcdef0".into(),
                options: vec![(
                    "domain-name-servers".into(),
                    vec!["AmazonProvidedDNS".into(), "10.0.0.53".into()],
                )],
            }],
            vpcs: vec![VpcDhcpReport {
                vpc: "demo".into(),
                dhcp_options: None,
                domain_name: Some("ec2.internal".into()),
                name_servers: vec!["10.0.0.2".into()],
            }],
        };
        assert_eq!(
            printed(&DnsCommand::DescribeDhcpOptions, Response::DhcpOptions(r)),
            "NAME  ID                      KEY                  VALUES\n\
             corp  dopt-0123456789abcdef0  domain-name-servers  AmazonProvidedDNS, 10.0.0.53\n\
             \n\
             VPC   DHCP OPTIONS  SEARCH        NAME SERVERS\n\
             demo  default       ec2.internal  10.0.0.2\n"
        );
    }
}
