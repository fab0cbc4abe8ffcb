//! vpcctl's site-to-site VPN gateway commands (docs/vpcctl.md, docs/vpn.md), named
//! like the AWS CLI's `ec2` commands: `describe-vpn-gateways`,
//! `describe-customer-gateways`, `create-vpn-gateway`, `attach-vpn-gateway`,
//! `detach-vpn-gateway`, `delete-vpn-gateway`, `create-customer-gateway`,
//! `delete-customer-gateway`, `enable-vgw-route-propagation`,
//! `disable-vgw-route-propagation`, `create-vpn-connection`, `delete-vpn-connection`,
//! `create-vpn-connection-route`, `delete-vpn-connection-route`; vpcd's own
//! `vpn-connections` (tunnel status) and `vpn-config` (the customer side's files); and
//! how their answers are printed.

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
    /// VPN connections and their two tunnels: outside address, inside CIDR, status
    /// (UP/DOWN), why (or how many BGP routes), accepted routes, last change.
    #[command(visible_alias = "describe-vpn-connections")]
    VpnConnections,
    /// The customer side's configuration of a VPN connection (or of every connection
    /// of a customer gateway), like AWS's downloadable configuration: charon's
    /// (`strongswan`: one charon per tunnel), BIRD's or FRR's. Ready to run in the
    /// site's namespace (scripts/customer-gateway.sh does).
    VpnConfig {
        /// A VPN connection or a customer gateway.
        name: String,
        /// strongswan, bird or frr.
        #[arg(long, value_parser = ["strongswan", "bird", "frr"])]
        format: String,
        /// Write the files into this directory (made if missing); else print them,
        /// each after a `# ==> path <==` line, as if in the current directory.
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
    },
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
    /// Create a VPN connection between a customer gateway and a VPN gateway: two
    /// tunnels, BGP unless --static-routes-only.
    CreateVpnConnection {
        /// Its name.
        #[arg(long = "name", value_name = "NAME")]
        name: String,
        /// `ipsec.1` (the only type).
        #[arg(long = "type", default_value = "ipsec.1", value_parser = ["ipsec.1"])]
        vpn_type: String,
        /// The customer gateway.
        #[arg(long = "customer-gateway-id", value_name = "CGW")]
        customer_gateway: String,
        /// The VPN gateway.
        #[arg(long = "vpn-gateway-id", value_name = "VGW")]
        vpn_gateway: String,
        /// Static routes (create-vpn-connection-route) instead of BGP.
        #[arg(long = "static-routes-only")]
        static_routes_only: bool,
        /// A tunnel's inside CIDR, a /30 in 169.254.0.0/16 (once per tunnel, tunnel 1
        /// first; default: the first free on the VPN gateway from 169.254.10.0/30 on).
        #[arg(long = "tunnel-inside-cidr", value_name = "CIDR")]
        tunnel_inside_cidrs: Vec<String>,
        /// A tunnel's pre-shared key (once per tunnel, tunnel 1 first; default: one
        /// derived from the connection's name).
        #[arg(long = "pre-shared-key", value_name = "KEY")]
        pre_shared_keys: Vec<String>,
    },
    /// Delete a VPN connection: its tunnels end, its routes are no longer propagated.
    DeleteVpnConnection {
        /// The connection.
        #[arg(long = "vpn-connection-id", value_name = "NAME")]
        name: String,
    },
    /// Add a static route to a VPN connection with static routes only.
    CreateVpnConnectionRoute {
        /// The connection.
        #[arg(long = "vpn-connection-id", value_name = "NAME")]
        name: String,
        /// The customer's network.
        #[arg(long = "destination-cidr-block", value_name = "CIDR")]
        destination: String,
    },
    /// Remove a static route from a VPN connection.
    DeleteVpnConnectionRoute {
        /// The connection.
        #[arg(long = "vpn-connection-id", value_name = "NAME")]
        name: String,
        /// The route's destination.
        #[arg(long = "destination-cidr-block", value_name = "CIDR")]
        destination: String,
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
            VpnCommand::VpnConnections => Request::VpnConnections {},
            VpnCommand::VpnConfig { name, format, out } => {
                let dir = out
                    .clone()
                    .or_else(|| std::env::current_dir().ok())
                    .map(|d| std::path::absolute(&d).unwrap_or(d))
                    .unwrap_or_default();
                Request::VpnConfig {
                    name: name.clone(),
                    format: format.clone(),
                    dir: dir.display().to_string(),
                }
            }
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
            VpnCommand::CreateVpnConnection {
                name,
                customer_gateway,
                vpn_gateway,
                static_routes_only,
                tunnel_inside_cidrs,
                pre_shared_keys,
                ..
            } => Request::CreateVpnConnection {
                name: name.clone(),
                customer_gateway: customer_gateway.clone(),
                vpn_gateway: vpn_gateway.clone(),
                static_routes_only: *static_routes_only,
                tunnel_inside_cidrs: tunnel_inside_cidrs.clone(),
                pre_shared_keys: pre_shared_keys.clone(),
            },
            VpnCommand::DeleteVpnConnection { name } => {
                Request::DeleteVpnConnection { name: name.clone() }
            }
            VpnCommand::CreateVpnConnectionRoute { name, destination } => {
                Request::CreateVpnConnectionRoute {
                    name: name.clone(),
                    destination: destination.clone(),
                }
            }
            VpnCommand::DeleteVpnConnectionRoute { name, destination } => {
                Request::DeleteVpnConnectionRoute {
                    name: name.clone(),
                    destination: destination.clone(),
                }
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
            (Response::VpnConnections(r), VpnCommand::VpnConnections) => {
                print_vpn_connections(out, &r)?
            }
            (Response::VpnConfig(r), VpnCommand::VpnConfig { out: dir, .. }) => match dir {
                Some(dir) => {
                    for (path, text) in &r.files {
                        let path = dir.join(path);
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent)?;
                        }
                        std::fs::write(&path, text)?;
                        writeln!(out, "wrote {}", path.display())?;
                    }
                }
                None => {
                    for (path, text) in &r.files {
                        writeln!(out, "# ==> {path} <==")?;
                        write!(out, "{text}")?;
                    }
                }
            },
            (
                Response::Done { message },
                VpnCommand::CreateVpnGateway { .. }
                | VpnCommand::AttachVpnGateway { .. }
                | VpnCommand::DetachVpnGateway { .. }
                | VpnCommand::DeleteVpnGateway { .. }
                | VpnCommand::CreateCustomerGateway { .. }
                | VpnCommand::DeleteCustomerGateway { .. }
                | VpnCommand::EnableVgwRoutePropagation { .. }
                | VpnCommand::DisableVgwRoutePropagation { .. }
                | VpnCommand::CreateVpnConnection { .. }
                | VpnCommand::DeleteVpnConnection { .. }
                | VpnCommand::CreateVpnConnectionRoute { .. }
                | VpnCommand::DeleteVpnConnectionRoute { .. },
            ) => writeln!(out, "{message}")?,
            _ => return Err(CtlError::Unexpected),
        }
        Ok(())
    }
}

/// `vpn-connections`: one row per tunnel.
fn print_vpn_connections(
    out: &mut impl Write,
    r: &vpc_api::VpnConnectionsReport,
) -> io::Result<()> {
    if r.vpn_connections.is_empty() {
        return writeln!(out, "no VPN connections");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for c in &r.vpn_connections {
        for (k, x) in c.tunnels.iter().enumerate() {
            let first = k == 0;
            let when = match x.last_status_change {
                0 => "-".to_owned(),
                t => format!("{}s ago", now.saturating_sub(t)),
            };
            rows.push(vec![
                if first { c.name.clone() } else { String::new() },
                if first { c.id.clone() } else { String::new() },
                if first {
                    format!(
                        "{} -> {} ({})",
                        c.customer_gateway, c.vpn_gateway, c.routing
                    )
                } else {
                    String::new()
                },
                format!("{}", k + 1),
                x.outside_ip_address.clone(),
                x.tunnel_inside_cidr.clone(),
                x.status.clone(),
                x.accepted_route_count.to_string(),
                when,
                x.status_message.clone(),
            ]);
        }
    }
    table(
        out,
        &[
            "CONNECTION",
            "ID",
            "GATEWAYS",
            "TUNNEL",
            "OUTSIDE IP",
            "INSIDE CIDR",
            "STATUS",
            "ROUTES",
            "LAST CHANGE",
            "MESSAGE",
        ],
        &rows,
    )?;
    for c in &r.vpn_connections {
        writeln!(out, "{} routes: {}", c.name, list_or_none(&c.routes))?;
    }
    Ok(())
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
    fn vpn_connection_commands_parse_into_their_requests() {
        assert_eq!(
            parsed(&[
                "create-vpn-connection",
                "--name",
                "vpn-dc",
                "--type",
                "ipsec.1",
                "--customer-gateway-id",
                "dc",
                "--vpn-gateway-id",
                "vgw",
                "--static-routes-only",
                "--tunnel-inside-cidr",
                "169.254.20.0/30",
                "--tunnel-inside-cidr",
                "169.254.20.4/30",
                "--pre-shared-key",
                "dc.key_123",
            ]),
            Request::CreateVpnConnection {
                name: "vpn-dc".into(),
                customer_gateway: "dc".into(),
                vpn_gateway: "vgw".into(),
                static_routes_only: true,
                tunnel_inside_cidrs: vec!["169.254.20.0/30".into(), "169.254.20.4/30".into()],
                pre_shared_keys: vec!["dc.key_123".into()],
            }
        );
        assert_eq!(
            parsed(&[
                "create-vpn-connection",
                "--name",
                "vpn-hq",
                "--customer-gateway-id",
                "hq",
                "--vpn-gateway-id",
                "vgw"
            ]),
            Request::CreateVpnConnection {
                name: "vpn-hq".into(),
                customer_gateway: "hq".into(),
                vpn_gateway: "vgw".into(),
                static_routes_only: false,
                tunnel_inside_cidrs: vec![],
                pre_shared_keys: vec![],
            }
        );
        for missing in [
            &[
                "create-vpn-connection",
                "--name",
                "x",
                "--vpn-gateway-id",
                "vgw",
            ][..],
            &[
                "create-vpn-connection",
                "--name",
                "x",
                "--customer-gateway-id",
                "hq",
            ][..],
            &["create-vpn-connection-route", "--vpn-connection-id", "x"][..],
        ] {
            assert!(
                crate::Cli::try_parse_from(
                    std::iter::once("vpcctl").chain(missing.iter().copied())
                )
                .is_err(),
                "{missing:?}"
            );
        }
        assert_eq!(
            parsed(&["delete-vpn-connection", "--vpn-connection-id", "vpn-dc"]),
            Request::DeleteVpnConnection {
                name: "vpn-dc".into()
            }
        );
        assert_eq!(
            parsed(&[
                "create-vpn-connection-route",
                "--vpn-connection-id",
                "vpn-dc",
                "--destination-cidr-block",
                "172.18.0.0/16"
            ]),
            Request::CreateVpnConnectionRoute {
                name: "vpn-dc".into(),
                destination: "172.18.0.0/16".into()
            }
        );
        assert_eq!(
            parsed(&[
                "delete-vpn-connection-route",
                "--vpn-connection-id",
                "vpn-dc",
                "--destination-cidr-block",
                "172.18.0.0/16"
            ]),
            Request::DeleteVpnConnectionRoute {
                name: "vpn-dc".into(),
                destination: "172.18.0.0/16".into()
            }
        );
        let mut out = Vec::new();
        let cmd = VpnCommand::DeleteVpnConnection {
            name: "vpn-dc".into(),
        };
        cmd.print(
            &mut out,
            Response::Done {
                message: "deleted VPN connection vpn-dc".into(),
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "deleted VPN connection vpn-dc\n"
        );
    }

    #[test]
    fn vpn_connections_print_a_row_per_tunnel() {
        let tunnel = |outside: &str, inside: &str, up: bool, message: &str, routes: u32| {
            vpc_api::VpnTunnelReport {
                outside_ip_address: outside.into(),
                tunnel_inside_cidr: inside.into(),
                status: if up { "UP" } else { "DOWN" }.into(),
                status_message: message.into(),
                accepted_route_count: routes,
                last_status_change: 0,
            }
        };
        let r = vpc_api::VpnConnectionsReport {
            vpn_connections: vec![vpc_api::VpnConnectionReport {
                name: "vpn-hq".into(),
                id: "vpn-0123456789abcdef0".into(),
                state: "available".into(),
                customer_gateway: "hq".into(),
                vpn_gateway: "vgw".into(),
                routing: "bgp".into(),
                routes: vec!["172.16.0.0/16".into()],
                tunnels: vec![
                    tunnel("192.0.2.254", "169.254.10.0/30", true, "1 BGP ROUTES", 1),
                    tunnel("192.0.2.253", "169.254.10.4/30", false, "", 0),
                ],
            }],
        };
        let mut out = Vec::new();
        print_vpn_connections(&mut out, &r).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
CONNECTION  ID                     GATEWAYS         TUNNEL  OUTSIDE IP   INSIDE CIDR      STATUS  ROUTES  LAST CHANGE  MESSAGE
vpn-hq      vpn-0123456789abcdef0  hq -> vgw (bgp)  1       192.0.2.254  169.254.10.0/30  UP      1       -            1 BGP ROUTES
                                                    2       192.0.2.253  169.254.10.4/30  DOWN    0       -
vpn-hq routes: 172.16.0.0/16
"
        );
        let mut out = Vec::new();
        print_vpn_connections(
            &mut out,
            &vpc_api::VpnConnectionsReport {
                vpn_connections: vec![],
            },
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "no VPN connections\n");
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
