//! vpcctl's gateway VPC endpoints and prefix lists (docs/vpcctl.md): the commands,
//! named like the AWS CLI's, and how their answers are printed.

use std::io::{self, Write};

use clap::Args;
use vpc_api::{PrefixListsReport, Request, VpcEndpointsReport};

use super::{list_or_none, table};

/// `create-vpc-endpoint`.
#[derive(Debug, Clone, Args)]
pub struct CreateVpcEndpoint {
    /// The endpoint's name.
    #[arg(long = "vpc-endpoint-name", value_name = "NAME")]
    pub name: String,
    /// The VPC.
    #[arg(long = "vpc-id", value_name = "VPC")]
    pub vpc: String,
    /// The service, `com.amazonaws.<region>.s3` or `.dynamodb`.
    #[arg(long = "service-name", value_name = "SERVICE")]
    pub service_name: String,
    /// `Gateway` (the only type vpcd builds).
    #[arg(long = "vpc-endpoint-type", default_value = "Gateway", value_parser = ["Gateway"])]
    pub vpc_endpoint_type: String,
    /// The route tables that route the service's prefix list to it.
    #[arg(long = "route-table-ids", value_name = "TABLE", num_args = 0..)]
    pub route_tables: Vec<String>,
}

/// `modify-vpc-endpoint`.
#[derive(Debug, Clone, Args)]
pub struct ModifyVpcEndpoint {
    /// The endpoint.
    #[arg(long = "vpc-endpoint-id", value_name = "NAME")]
    pub name: String,
    /// Route tables to add.
    #[arg(long = "add-route-table-ids", value_name = "TABLE", num_args = 1..)]
    pub add: Vec<String>,
    /// Route tables to remove.
    #[arg(long = "remove-route-table-ids", value_name = "TABLE", num_args = 1..)]
    pub remove: Vec<String>,
}

/// `delete-vpc-endpoints`.
#[derive(Debug, Clone, Args)]
pub struct DeleteVpcEndpoints {
    /// The endpoints.
    #[arg(long = "vpc-endpoint-ids", value_name = "NAME", num_args = 1.., required = true)]
    pub names: Vec<String>,
}

impl CreateVpcEndpoint {
    pub(super) fn request(&self) -> Request {
        Request::CreateVpcEndpoint {
            name: self.name.clone(),
            vpc: self.vpc.clone(),
            service_name: self.service_name.clone(),
            route_tables: self.route_tables.clone(),
        }
    }
}

impl ModifyVpcEndpoint {
    pub(super) fn request(&self) -> Request {
        Request::ModifyVpcEndpoint {
            name: self.name.clone(),
            add_route_tables: self.add.clone(),
            remove_route_tables: self.remove.clone(),
        }
    }
}

impl DeleteVpcEndpoints {
    pub(super) fn request(&self) -> Request {
        Request::DeleteVpcEndpoints {
            names: self.names.clone(),
        }
    }
}

/// `describe-vpc-endpoints`: each endpoint, then its metrics.
pub(super) fn print_vpc_endpoints(out: &mut impl Write, r: &VpcEndpointsReport) -> io::Result<()> {
    if r.vpc_endpoints.is_empty() {
        return writeln!(out, "no VPC endpoints");
    }
    for (i, e) in r.vpc_endpoints.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "vpc endpoint {} ({}; {}, vpc {}): {}; service {} (prefix list {}); route tables: {}",
            e.name,
            e.id,
            e.vpc_endpoint_type,
            e.vpc,
            e.state,
            e.service_name,
            e.prefix_list_id,
            list_or_none(&e.route_tables)
        )?;
        let rows: Vec<Vec<String>> = [
            ("PacketsOut", e.packets_out),
            ("BytesOut", e.bytes_out),
            ("PacketsIn", e.packets_in),
            ("BytesIn", e.bytes_in),
            ("PacketsDropCount", e.packets_drop),
            ("ActiveFlows", e.active_flows),
        ]
        .iter()
        .map(|(name, value)| vec![format!("  {name}"), value.to_string()])
        .collect();
        table(out, &["  METRIC", "VALUE"], &rows)?;
    }
    Ok(())
}

/// `describe-prefix-lists`: ID, name, blocks.
pub(super) fn print_prefix_lists(out: &mut impl Write, r: &PrefixListsReport) -> io::Result<()> {
    if r.prefix_lists.is_empty() {
        return writeln!(out, "no prefix lists");
    }
    let rows: Vec<Vec<String>> = r
        .prefix_lists
        .iter()
        .map(|p| vec![p.id.clone(), p.name.clone(), p.cidrs.join(", ")])
        .collect();
    table(out, &["PREFIX LIST ID", "NAME", "CIDRS"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use vpc_api::{PrefixListReport, VpcEndpointReport};

    fn parsed(args: &[&str]) -> Request {
        let cli = crate::Cli::try_parse_from(std::iter::once("vpcctl").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        crate::request(&cli.command)
    }

    #[test]
    fn endpoint_commands_parse_into_their_requests() {
        assert_eq!(
            parsed(&["describe-vpc-endpoints"]),
            Request::VpcEndpoints {}
        );
        assert_eq!(parsed(&["describe-prefix-lists"]), Request::PrefixLists {});
        assert_eq!(
            parsed(&[
                "create-vpc-endpoint",
                "--vpc-endpoint-name",
                "ddb",
                "--vpc-id",
                "demo",
                "--service-name",
                "com.amazonaws.us-east-1.dynamodb",
                "--route-table-ids",
                "private-a-rt",
                "private-b-rt",
            ]),
            Request::CreateVpcEndpoint {
                name: "ddb".into(),
                vpc: "demo".into(),
                service_name: "com.amazonaws.us-east-1.dynamodb".into(),
                route_tables: vec!["private-a-rt".into(), "private-b-rt".into()],
            }
        );
        assert!(
            crate::Cli::try_parse_from([
                "vpcctl",
                "create-vpc-endpoint",
                "--vpc-endpoint-name",
                "x",
                "--vpc-id",
                "demo",
                "--service-name",
                "s",
                "--vpc-endpoint-type",
                "Interface",
            ])
            .is_err(),
            "only Gateway"
        );
        assert_eq!(
            parsed(&[
                "modify-vpc-endpoint",
                "--vpc-endpoint-id",
                "s3-endpoint",
                "--add-route-table-ids",
                "private-b-rt",
                "--remove-route-table-ids",
                "private-a-rt",
            ]),
            Request::ModifyVpcEndpoint {
                name: "s3-endpoint".into(),
                add_route_tables: vec!["private-b-rt".into()],
                remove_route_tables: vec!["private-a-rt".into()],
            }
        );
        assert_eq!(
            parsed(&["delete-vpc-endpoints", "--vpc-endpoint-ids", "a", "b"]),
            Request::DeleteVpcEndpoints {
                names: vec!["a".into(), "b".into()]
            }
        );
    }

    #[test]
    fn endpoints_and_prefix_lists_print_as_tables() {
        let r = VpcEndpointsReport {
            vpc_endpoints: vec![VpcEndpointReport {
                name: "s3-endpoint".into(),
                id: "vpce-0123456789abcdef0".into(),
                vpc: "demo".into(),
                vpc_endpoint_type: "Gateway".into(),
                service_name: "com.amazonaws.us-east-1.s3".into(),
                prefix_list_id: "pl-0123456789abcdef0".into(),
                route_tables: vec!["private-a-rt".into()],
                state: "available".into(),
                packets_out: 2,
                bytes_out: 80,
                packets_in: 1,
                bytes_in: 40,
                packets_drop: 0,
                active_flows: 1,
            }],
        };
        let mut out = Vec::new();
        print_vpc_endpoints(&mut out, &r).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
vpc endpoint s3-endpoint (vpce-0123456789abcdef0; Gateway, vpc demo): available; service com.amazonaws.us-east-1.s3 (prefix list pl-0123456789abcdef0); route tables: private-a-rt
  METRIC            VALUE
  PacketsOut        2
  BytesOut          80
  PacketsIn         1
  BytesIn           40
  PacketsDropCount  0
  ActiveFlows       1
"
        );
        let r = PrefixListsReport {
            prefix_lists: vec![PrefixListReport {
                id: "pl-0123456789abcdef0".into(),
                name: "com.amazonaws.us-east-1.s3".into(),
                cidrs: vec!["192.0.2.64/26".into()],
            }],
        };
        let mut out = Vec::new();
        print_prefix_lists(&mut out, &r).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
PREFIX LIST ID        NAME                        CIDRS
pl-0123456789abcdef0  com.amazonaws.us-east-1.s3  192.0.2.64/26
"
        );
    }
}
