//! vpcctl's site-to-site VPN gateway commands (docs/vpcctl.md, docs/vpn.md), named
//! like the AWS CLI's `ec2` commands: `describe-vpn-gateways`,
//! `describe-customer-gateways`, `create-vpn-gateway`, `attach-vpn-gateway`,
//! `detach-vpn-gateway`, `delete-vpn-gateway`, `create-customer-gateway`,
//! `delete-customer-gateway`, `enable-vgw-route-propagation`,
//! `disable-vgw-route-propagation`, and how their answers are printed.

use std::io::{self, Write};

use clap::Subcommand;
use vpc_api::{CustomerGatewaysReport, Request, Response, VpnGatewaysReport};

use super::{CtlError, list_or_none, table};

#[derive(Debug, Subcommand)]
pub(crate) enum VpnCommand {
    /// Virtual private gateways: ID, state, type, Amazon side ASN, VPC, and the route
    /// tables that route to or propagate from each.
    DescribeVpnGateways,
    /// Customer gateways: ID, state, type, address, BGP ASN, device name.
    DescribeCustomerGateways,
    /// Create a virtual private gateway (detached).
    CreateVpnGateway {
        /// Its name.
        #[arg(long = "name", value_name = "NAME")]
        name: String,
        /// `ipsec.1` (the only type).
        #[arg(long = "type", default_value = "ipsec.1", value_parser = ["ipsec.1"])]
        vpn_type: String,
        /// The Amazon side ASN (default 64512).
        #[arg(long = "amazon-side-asn", value_name = "ASN")]
        amazon_side_asn: Option<u32>,
        /// The availability zone (kept and shown, otherwise ignored).
        #[arg(long = "availability-zone", value_name = "AZ")]
        availability_zone: Option<String>,
    },
    /// Attach a VPN gateway to a VPC (a VPC has one at most).
    AttachVpnGateway {
        /// The gateway.
        #[arg(long = "vpn-gateway-id", value_name = "NAME")]
        name: String,
        /// The VPC.
        #[arg(long = "vpc-id", value_name = "VPC")]
        vpc: String,
    },
    /// Detach a VPN gateway from its VPC: routes to it turn blackhole.
    DetachVpnGateway {
        /// The gateway.
        #[arg(long = "vpn-gateway-id", value_name = "NAME")]
        name: String,
        /// The VPC.
        #[arg(long = "vpc-id", value_name = "VPC")]
        vpc: String,
    },
    /// Delete a detached VPN gateway no route names.
    DeleteVpnGateway {
        /// The gateway.
        #[arg(long = "vpn-gateway-id", value_name = "NAME")]
        name: String,
    },
    /// Create a customer gateway.
    CreateCustomerGateway {
        /// Its name.
        #[arg(long = "name", value_name = "NAME")]
        name: String,
        /// `ipsec.1` (the only type).
        #[arg(long = "type", default_value = "ipsec.1", value_parser = ["ipsec.1"])]
        vpn_type: String,
        /// The device's public address.
        #[arg(long = "ip-address", value_name = "IP")]
        ip_address: String,
        /// The device's BGP ASN (default 65000).
        #[arg(long = "bgp-asn", value_name = "ASN")]
        bgp_asn: Option<u32>,
        /// The device's name.
        #[arg(long = "device-name", value_name = "NAME")]
        device_name: Option<String>,
    },
    /// Delete a customer gateway.
    DeleteCustomerGateway {
        /// The gateway.
        #[arg(long = "customer-gateway-id", value_name = "NAME")]
        name: String,
    },
    /// Make a route table propagate a VPN gateway's routes (attached to its VPC).
    EnableVgwRoutePropagation {
        /// The route table.
        #[arg(long = "route-table-id", value_name = "TABLE")]
        route_table: String,
        /// The VPN gateway.
        #[arg(long = "gateway-id", value_name = "VGW")]
        gateway: String,
    },
    /// Stop a route table propagating a VPN gateway's routes.
    DisableVgwRoutePropagation {
        /// The route table.
        #[arg(long = "route-table-id", value_name = "TABLE")]
        route_table: String,
        /// The VPN gateway.
        #[arg(long = "gateway-id", value_name = "VGW")]
        gateway: String,
    },
}

impl VpnCommand {
    /// The request the command sends.
    pub(crate) fn request(&self) -> Request {
        match self {
            VpnCommand::DescribeVpnGateways => Request::VpnGateways {},
            VpnCommand::DescribeCustomerGateways => Request::CustomerGateways {},
            VpnCommand::CreateVpnGateway {
                name,
                amazon_side_asn,
                availability_zone,
                ..
            } => Request::CreateVpnGateway {
                name: name.clone(),
                amazon_side_asn: *amazon_side_asn,
                availability_zone: availability_zone.clone(),
            },
            VpnCommand::AttachVpnGateway { name, vpc } => Request::AttachVpnGateway {
                name: name.clone(),
                vpc: vpc.clone(),
            },
            VpnCommand::DetachVpnGateway { name, vpc } => Request::DetachVpnGateway {
                name: name.clone(),
                vpc: vpc.clone(),
            },
            VpnCommand::DeleteVpnGateway { name } => {
                Request::DeleteVpnGateway { name: name.clone() }
            }
            VpnCommand::CreateCustomerGateway {
                name,
                ip_address,
                bgp_asn,
                device_name,
                ..
            } => Request::CreateCustomerGateway {
                name: name.clone(),
                ip_address: ip_address.clone(),
                bgp_asn: *bgp_asn,
                device_name: device_name.clone(),
            },
            VpnCommand::DeleteCustomerGateway { name } => {
                Request::DeleteCustomerGateway { name: name.clone() }
            }
            VpnCommand::EnableVgwRoutePropagation {
                route_table,
                gateway,
            } => Request::EnableVgwRoutePropagation {
                route_table: route_table.clone(),
                gateway: gateway.clone(),
            },
            VpnCommand::DisableVgwRoutePropagation {
                route_table,
                gateway,
            } => Request::DisableVgwRoutePropagation {
                route_table: route_table.clone(),
                gateway: gateway.clone(),
            },
        }
    }

    /// Prints the daemon's answer.
    pub(crate) fn print(&self, out: &mut impl Write, response: Response) -> Result<(), CtlError> {
        match (response, self) {
            (Response::VpnGateways(r), VpnCommand::DescribeVpnGateways) => {
                print_vpn_gateways(out, &r)?
            }
            (Response::CustomerGateways(r), VpnCommand::DescribeCustomerGateways) => {
                print_customer_gateways(out, &r)?
            }
            (
                Response::Done { message },
                VpnCommand::CreateVpnGateway { .. }
                | VpnCommand::AttachVpnGateway { .. }
                | VpnCommand::DetachVpnGateway { .. }
                | VpnCommand::DeleteVpnGateway { .. }
                | VpnCommand::CreateCustomerGateway { .. }
                | VpnCommand::DeleteCustomerGateway { .. }
                | VpnCommand::EnableVgwRoutePropagation { .. }
                | VpnCommand::DisableVgwRoutePropagation { .. },
            ) => writeln!(out, "{message}")?,
            _ => return Err(CtlError::Unexpected),
        }
        Ok(())
    }
}

/// `describe-vpn-gateways`: one row per gateway.
fn print_vpn_gateways(out: &mut impl Write, r: &VpnGatewaysReport) -> io::Result<()> {
    if r.vpn_gateways.is_empty() {
        return writeln!(out, "no VPN gateways");
    }
    let rows: Vec<Vec<String>> = r
        .vpn_gateways
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                g.id.clone(),
                g.state.clone(),
                g.vpn_type.clone(),
                g.amazon_side_asn.to_string(),
                g.vpc.clone().unwrap_or_else(|| "detached".into()),
                list_or_none(&g.routed_from),
                list_or_none(&g.propagating_route_tables),
            ]
        })
        .collect();
    table(
        out,
        &[
            "NAME",
            "VPN GATEWAY ID",
            "STATE",
            "TYPE",
            "AMAZON SIDE ASN",
            "VPC",
            "ROUTED FROM",
            "PROPAGATING TO",
        ],
        &rows,
    )
}

/// `describe-customer-gateways`: one row per gateway.
fn print_customer_gateways(out: &mut impl Write, r: &CustomerGatewaysReport) -> io::Result<()> {
    if r.customer_gateways.is_empty() {
        return writeln!(out, "no customer gateways");
    }
    let rows: Vec<Vec<String>> = r
        .customer_gateways
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                g.id.clone(),
                g.state.clone(),
                g.vpn_type.clone(),
                g.ip_address.clone(),
                g.bgp_asn.to_string(),
                g.device_name.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(
        out,
        &[
            "NAME",
            "CUSTOMER GATEWAY ID",
            "STATE",
            "TYPE",
            "IP ADDRESS",
            "BGP ASN",
            "DEVICE",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use vpc_api::{CustomerGatewayReport, VpnGatewayReport};

    fn parsed(args: &[&str]) -> Request {
        let cli = crate::Cli::try_parse_from(std::iter::once("vpcctl").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        crate::request(&cli.command)
    }

    #[test]
    fn vpn_commands_parse_into_their_requests() {
        assert_eq!(parsed(&["describe-vpn-gateways"]), Request::VpnGateways {});
        assert_eq!(
            parsed(&["describe-customer-gateways"]),
            Request::CustomerGateways {}
        );
        assert_eq!(
            parsed(&[
                "create-vpn-gateway",
                "--name",
                "vgw",
                "--type",
                "ipsec.1",
                "--amazon-side-asn",
                "65010"
            ]),
            Request::CreateVpnGateway {
                name: "vgw".into(),
                amazon_side_asn: Some(65010),
                availability_zone: None,
            }
        );
        assert!(
            crate::Cli::try_parse_from([
                "vpcctl",
                "create-vpn-gateway",
                "--name",
                "x",
                "--type",
                "ipsec.2"
            ])
            .is_err(),
            "only ipsec.1"
        );
        assert_eq!(
            parsed(&[
                "attach-vpn-gateway",
                "--vpn-gateway-id",
                "vgw",
                "--vpc-id",
                "corp"
            ]),
            Request::AttachVpnGateway {
                name: "vgw".into(),
                vpc: "corp".into()
            }
        );
        assert_eq!(
            parsed(&[
                "detach-vpn-gateway",
                "--vpn-gateway-id",
                "vgw",
                "--vpc-id",
                "corp"
            ]),
            Request::DetachVpnGateway {
                name: "vgw".into(),
                vpc: "corp".into()
            }
        );
        assert_eq!(
            parsed(&["delete-vpn-gateway", "--vpn-gateway-id", "vgw"]),
            Request::DeleteVpnGateway { name: "vgw".into() }
        );
        assert_eq!(
            parsed(&[
                "create-customer-gateway",
                "--name",
                "hq",
                "--ip-address",
                "203.0.113.60",
                "--bgp-asn",
                "65001",
                "--device-name",
                "fw"
            ]),
            Request::CreateCustomerGateway {
                name: "hq".into(),
                ip_address: "203.0.113.60".into(),
                bgp_asn: Some(65001),
                device_name: Some("fw".into()),
            }
        );
        assert_eq!(
            parsed(&["delete-customer-gateway", "--customer-gateway-id", "hq"]),
            Request::DeleteCustomerGateway { name: "hq".into() }
        );
        for (cmd, enable) in [
            ("enable-vgw-route-propagation", true),
            ("disable-vgw-route-propagation", false),
        ] {
            let r = parsed(&[cmd, "--route-table-id", "app-rt", "--gateway-id", "vgw"]);
            let (route_table, gateway) = ("app-rt".to_owned(), "vgw".to_owned());
            let want = if enable {
                Request::EnableVgwRoutePropagation {
                    route_table,
                    gateway,
                }
            } else {
                Request::DisableVgwRoutePropagation {
                    route_table,
                    gateway,
                }
            };
            assert_eq!(r, want);
        }
    }

    #[test]
    fn gateways_print_as_tables() {
        let r = VpnGatewaysReport {
            vpn_gateways: vec![VpnGatewayReport {
                name: "vgw".into(),
                id: "vgw-0123456789abcdef0".into(),
                state: "available".into(),
                vpn_type: "ipsec.1".into(),
                amazon_side_asn: 64512,
                vpc: Some("corp".into()),
                availability_zone: None,
                propagating_route_tables: vec!["app-rt".into()],
                routed_from: vec![],
            }],
        };
        let mut out = Vec::new();
        print_vpn_gateways(&mut out, &r).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
NAME  VPN GATEWAY ID         STATE      TYPE     AMAZON SIDE ASN  VPC   ROUTED FROM  PROPAGATING TO
vgw   vgw-0123456789abcdef0  available  ipsec.1  64512            corp  none         app-rt
"
        );
        let r = CustomerGatewaysReport {
            customer_gateways: vec![CustomerGatewayReport {
                name: "hq".into(),
                id: "cgw-0123456789abcdef0".into(),
                state: "available".into(),
                vpn_type: "ipsec.1".into(),
                ip_address: "203.0.113.60".into(),
                bgp_asn: 65001,
                device_name: None,
            }],
        };
        let mut out = Vec::new();
        print_customer_gateways(&mut out, &r).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
NAME  CUSTOMER GATEWAY ID    STATE      TYPE     IP ADDRESS    BGP ASN  DEVICE
hq    cgw-0123456789abcdef0  available  ipsec.1  203.0.113.60  65001    -
"
        );
        let mut out = Vec::new();
        print_vpn_gateways(
            &mut out,
            &VpnGatewaysReport {
                vpn_gateways: vec![],
            },
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "no VPN gateways\n");
    }
}
