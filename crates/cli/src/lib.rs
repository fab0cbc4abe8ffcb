//! `vpcctl`: asks a running `vpcd` for its status, route tables, counters, tracked
//! connections, NAT gateways, public addresses, VPC peering connections, transit
//! gateways and multicast domains over the daemon's control socket, and traces why a
//! probe would or would not get through; prints tables (or the JSON response with
//! `--json`). It also makes the changes EC2 makes at run time: deleting a NAT gateway,
//! attaching and detaching an internet gateway, allocating, releasing, associating and
//! disassociating Elastic IPs, edge associations and local route targets, creating,
//! accepting and deleting VPC peering connections, changing transit gateway route
//! tables (propagations, associations, static routes), accepting transit gateway
//! attachments, registering multicast group members and sources, and changing an
//! instance's metadata options. Commands and options are spelled like the AWS CLI's,
//! with vpcd's names as the IDs.
//!
//! The command logic lives in this library ([`run`]) so that the end-to-end tests drive
//! exactly what the binary runs; `main.rs` only maps errors to an exit status.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

mod dns;

use clap::{Parser, Subcommand};

mod endpoints;
mod vpn;
use vpc_api::{
    AddressesReport, ApiError, CountersReport, FlowsReport, MulticastDomainsReport,
    NatGatewaysReport, Request, Response, Routes, Status, TagsReport, TraceReport,
    TransitGatewaysReport, VpcPeeringConnectionsReport,
};

/// Why a vpcctl command failed.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The command line is invalid (or asked for help or the version).
    #[error(transparent)]
    Usage(#[from] clap::Error),
    /// The control socket could not be reached.
    #[error("cannot reach vpcd at {path} (is `vpcd run` running? are you root?): {source}")]
    Connect {
        /// The socket path.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// Talking to the daemon failed.
    #[error("talking to vpcd: {0}")]
    Socket(io::Error),
    /// Writing the output failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The daemon's answer is not a response of this protocol.
    #[error("cannot decode vpcd's response: {0}")]
    Decode(#[from] ApiError),
    /// The daemon answered with an error.
    #[error("vpcd: {0}")]
    Daemon(String),
    /// The daemon answered a different question.
    #[error("unexpected response from vpcd")]
    Unexpected,
}

#[derive(Debug, Parser)]
#[command(name = "vpcctl", version, about = "Inspect and change a running vpcd")]
struct Cli {
    /// The daemon's control socket.
    #[arg(long, global = true, env = "VPCD_SOCKET", default_value = vpc_api::DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Print the daemon's JSON response instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// VPCs (blocks, owner, region, subnets), instances, their namespaces and ENIs, and
    /// link states.
    Status,
    /// Route tables, their subnets, and every route with its state; then transit
    /// gateway route tables, their associations and propagations, and every effective
    /// route with its type and state.
    Routes,
    /// Packets and bytes per ENI, and drops by reason.
    Counters {
        /// Also list drop reasons that have not occurred.
        #[arg(long)]
        all: bool,
    },
    /// The connections each ENI tracks (security-group connection tracking).
    Flows {
        /// Only this instance's ENIs (e.g. `web`), or one ENI (`fw/eth1`).
        instance: Option<String>,
    },
    /// Why can X reach Y (or not): walk a probe through the live configuration and
    /// print each stage's decision: route, security groups, network ACLs, gateways,
    /// verdict.
    Trace {
        /// The sending instance (its eth0), ENI (`instance/ethN`) or internet host.
        #[arg(long, value_name = "INSTANCE")]
        from: String,
        /// The destination IPv4 address.
        #[arg(long, value_name = "IP")]
        to: String,
        /// The protocol of the probe.
        #[arg(long, value_parser = ["tcp", "udp", "icmp"])]
        proto: String,
        /// Destination port (tcp and udp).
        #[arg(long, value_name = "N")]
        port: Option<u16>,
        /// The source address, for a VPN gateway's port (`vpcd+gw-NAME`: what comes
        /// out of its tunnels, from a site's address); others send from their own.
        #[arg(long, value_name = "IP")]
        source: Option<String>,
    },
    /// NAT gateways: subnet, state, addresses and CloudWatch metrics.
    NatGateways {
        /// Only this NAT gateway.
        name: Option<String>,
        /// Also list its translations (inside -> NAT -> remote).
        #[arg(long)]
        mappings: bool,
    },
    /// Elastic IPs, public IPs of ENIs, internet gateways and internet hosts.
    Addresses,
    /// Tags set through the EC2 API (the configuration's `[tags]`), by resource ID.
    DescribeTags {
        /// Only this resource ID (`vpc-...`).
        #[arg(long, value_name = "ID")]
        resource_id: Option<String>,
    },
    /// VPC peering connections: requester and accepter (VPC, CIDR blocks, owner,
    /// region), status, whether inter-region, and MTU.
    DescribeVpcPeeringConnections,
    /// Transit gateways: owner, region, ASN, options, default route table, resource
    /// shares, CloudWatch metrics, and attachments (VPC or peer gateway, subnets with the
    /// attachment's interface addresses, appliance mode, status, route tables).
    DescribeTransitGateways,
    /// Transit gateway multicast domains: associated subnets, and each group's members
    /// and sources.
    DescribeTransitGatewayMulticastDomains,
    #[command(flatten)]
    Dns(dns::DnsCommand),
    #[command(flatten)]
    Vpn(vpn::VpnCommand),
    /// Apply a topology file to the running daemon: print the plan (each resource
    /// added, changed or removed) and apply it at once; an invalid file changes nothing.
    Apply {
        /// The topology file.
        file: std::path::PathBuf,
        /// Only print the plan.
        #[arg(long)]
        dry_run: bool,
    },
    /// Gateway VPC endpoints: VPC, service, prefix list, route tables and metrics.
    DescribeVpcEndpoints,
    /// AWS-managed prefix lists (the emulated services'): ID, name, blocks.
    DescribePrefixLists,
    /// Create a gateway VPC endpoint to s3 or dynamodb.
    CreateVpcEndpoint(endpoints::CreateVpcEndpoint),
    /// Add or remove a gateway endpoint's route tables.
    ModifyVpcEndpoint(endpoints::ModifyVpcEndpoint),
    /// Delete gateway VPC endpoints, with their routes.
    DeleteVpcEndpoints(endpoints::DeleteVpcEndpoints),
    /// Delete a NAT gateway: routes to it turn blackhole.
    DeleteNatGateway {
        /// The NAT gateway.
        name: String,
    },
    /// Detach an internet gateway from its VPC: routes to it turn blackhole.
    DetachInternetGateway {
        /// The internet gateway.
        name: String,
    },
    /// Attach an internet gateway to a VPC.
    AttachInternetGateway {
        /// The internet gateway.
        name: String,
        /// The VPC.
        vpc: String,
    },
    /// Allocate an Elastic IP.
    AllocateAddress {
        /// The public IPv4 address (in 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24).
        address: String,
    },
    /// Release an Elastic IP.
    ReleaseAddress {
        /// The Elastic IP.
        address: String,
    },
    /// Associate an Elastic IP with an instance's eth0 or a network interface.
    AssociateAddress {
        /// The Elastic IP.
        address: String,
        /// The instance (its eth0) or network interface (`instance/ethN`).
        instance: String,
    },
    /// Remove an Elastic IP's association.
    DisassociateAddress {
        /// The Elastic IP.
        address: String,
    },
    /// Associate a route table with an internet gateway (an edge association): what
    /// enters the VPC through the gateway is routed by the table.
    AssociateRouteTable {
        /// The route table.
        table: String,
        /// The internet gateway.
        #[arg(long = "gateway-id", value_name = "IGW")]
        gateway: String,
    },
    /// Remove a route table's association with an internet gateway.
    DisassociateRouteTable {
        /// The route table.
        table: String,
        /// The internet gateway.
        #[arg(long = "gateway-id", value_name = "IGW")]
        gateway: String,
    },
    /// Replace the target of a local route with a network interface, or restore it.
    ReplaceRoute {
        /// The route table.
        table: String,
        /// The local route's destination (one of the VPC's CIDR blocks).
        #[arg(long = "destination-cidr-block", value_name = "CIDR")]
        destination: String,
        /// The new target: an instance (its eth0) or a network interface (`instance/ethN`).
        #[arg(
            long = "network-interface-id",
            value_name = "ENI",
            required_unless_present = "local_target",
            conflicts_with = "local_target"
        )]
        network_interface: Option<String>,
        /// Restore the default target, `local`.
        #[arg(long)]
        local_target: bool,
    },
    /// Request a VPC peering connection: active at once when both VPCs have one owner,
    /// else pending acceptance by the accepter's owner.
    CreateVpcPeeringConnection {
        /// The new connection's name (vpcd's ID for it).
        #[arg(long = "vpc-peering-connection-id", value_name = "NAME")]
        name: String,
        /// The requester VPC.
        #[arg(long = "vpc-id", value_name = "VPC")]
        vpc: String,
        /// The accepter VPC (its owner and region are the peer's).
        #[arg(long = "peer-vpc-id", value_name = "VPC")]
        peer_vpc: String,
    },
    /// Accept a VPC peering connection that is pending acceptance.
    AcceptVpcPeeringConnection {
        /// The connection.
        #[arg(long = "vpc-peering-connection-id", value_name = "NAME")]
        name: String,
    },
    /// Delete (or reject) a VPC peering connection: routes to it turn blackhole.
    DeleteVpcPeeringConnection {
        /// The connection.
        #[arg(long = "vpc-peering-connection-id", value_name = "NAME")]
        name: String,
    },
    /// Make a VPC attachment propagate its VPC's CIDR blocks into a transit gateway
    /// route table.
    EnableTransitGatewayRouteTablePropagation(TableAttachment),
    /// Stop an attachment propagating into a transit gateway route table.
    DisableTransitGatewayRouteTablePropagation(TableAttachment),
    /// Associate an attachment with a transit gateway route table: the table routes
    /// what enters the gateway through the attachment.
    AssociateTransitGatewayRouteTable(TableAttachment),
    /// Remove an attachment's association with a transit gateway route table: what
    /// enters the gateway through it is dropped until it is associated again.
    DisassociateTransitGatewayRouteTable(TableAttachment),
    /// Add a static route to a transit gateway route table: to an attachment, or a
    /// blackhole route.
    CreateTransitGatewayRoute {
        /// The transit gateway route table.
        #[arg(long = "transit-gateway-route-table-id", value_name = "TABLE")]
        table: String,
        /// The destination (a canonical CIDR block).
        #[arg(long = "destination-cidr-block", value_name = "CIDR")]
        destination: String,
        /// The target attachment (VPC or peering).
        #[arg(
            long = "transit-gateway-attachment-id",
            value_name = "ATTACHMENT",
            required_unless_present = "blackhole",
            conflicts_with = "blackhole"
        )]
        attachment: Option<String>,
        /// Drop what matches the route.
        #[arg(long)]
        blackhole: bool,
    },
    /// Delete a static route of a transit gateway route table (a propagated route of
    /// the same prefix takes its place).
    DeleteTransitGatewayRoute {
        /// The transit gateway route table.
        #[arg(long = "transit-gateway-route-table-id", value_name = "TABLE")]
        table: String,
        /// The static route's destination.
        #[arg(long = "destination-cidr-block", value_name = "CIDR")]
        destination: String,
    },
    /// Accept a transit gateway attachment that is pending acceptance, VPC or peering
    /// (also spelled accept-transit-gateway-peering-attachment).
    #[command(visible_alias = "accept-transit-gateway-peering-attachment")]
    AcceptTransitGatewayVpcAttachment {
        /// The attachment.
        #[arg(long = "transit-gateway-attachment-id", value_name = "ATTACHMENT")]
        name: String,
    },
    /// Delete a transit gateway attachment, VPC or peering (also spelled
    /// delete-transit-gateway-peering-attachment): routes to it turn blackhole.
    #[command(visible_alias = "delete-transit-gateway-peering-attachment")]
    DeleteTransitGatewayVpcAttachment {
        /// The attachment.
        #[arg(long = "transit-gateway-attachment-id", value_name = "ATTACHMENT")]
        name: String,
    },
    /// Register network interfaces as static members of a multicast group (all of them,
    /// or none if one is refused).
    RegisterTransitGatewayMulticastGroupMembers(MulticastGroup),
    /// Deregister static members of a multicast group.
    DeregisterTransitGatewayMulticastGroupMembers(MulticastGroup),
    /// Register network interfaces as static sources of a multicast group (all of them,
    /// or none if one is refused).
    RegisterTransitGatewayMulticastGroupSources(MulticastGroup),
    /// Deregister static sources of a multicast group.
    DeregisterTransitGatewayMulticastGroupSources(MulticastGroup),
    /// Change an instance's metadata options (IMDS); the options left out keep their
    /// value.
    ModifyInstanceMetadataOptions {
        /// The instance.
        #[arg(long = "instance-id", value_name = "NAME")]
        instance: String,
        /// Whether a session token is needed (IMDSv2 only).
        #[arg(long, value_parser = ["optional", "required"])]
        http_tokens: Option<String>,
        /// The IP TTL of the token's answer, 1 to 64.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=64))]
        http_put_response_hop_limit: Option<i64>,
        /// Whether the metadata service answers the instance at all.
        #[arg(long, value_parser = ["enabled", "disabled"])]
        http_endpoint: Option<String>,
    },
}

/// The options of the commands that join a transit gateway route table and an
/// attachment (propagation, association).
#[derive(Debug, clap::Args)]
struct TableAttachment {
    /// The transit gateway route table.
    #[arg(long = "transit-gateway-route-table-id", value_name = "TABLE")]
    table: String,
    /// The attachment (VPC or peering; only a VPC attachment propagates).
    #[arg(long = "transit-gateway-attachment-id", value_name = "ATTACHMENT")]
    attachment: String,
}

/// The options of the multicast group (de)registration commands.
#[derive(Debug, clap::Args)]
struct MulticastGroup {
    /// The multicast domain.
    #[arg(long = "transit-gateway-multicast-domain-id", value_name = "DOMAIN")]
    domain: String,
    /// The group's IPv4 address (in 224.0.0.0/4, outside 224.0.0.0/24).
    #[arg(long = "group-ip-address", value_name = "IP")]
    group: String,
    /// The network interfaces: instances (their eth0) or `instance/ethN`, one or more.
    #[arg(
        long = "network-interface-ids",
        value_name = "ENI",
        num_args = 1..,
        required = true
    )]
    network_interfaces: Vec<String>,
}

/// The request a command sends.
fn request(command: &Command) -> Request {
    match command {
        Command::Status => Request::Status {},
        Command::Routes => Request::Routes {},
        Command::Counters { .. } => Request::Counters {},
        Command::Flows { instance } => Request::Flows {
            instance: instance.clone(),
        },
        Command::Trace {
            from,
            to,
            proto,
            port,
            source,
        } => Request::Trace {
            from: from.clone(),
            to: to.clone(),
            proto: proto.clone(),
            port: *port,
            source: source.clone(),
        },
        Command::NatGateways { name, mappings } => Request::NatGateways {
            name: name.clone(),
            mappings: *mappings,
        },
        Command::Addresses => Request::Addresses {},
        Command::DescribeTags { resource_id } => Request::Tags {
            resource_id: resource_id.clone(),
        },
        Command::DescribeVpcPeeringConnections => Request::VpcPeeringConnections {},
        Command::DescribeTransitGateways => Request::TransitGateways {},
        Command::DescribeTransitGatewayMulticastDomains => Request::MulticastDomains {},
        Command::Dns(c) => c.request(),
        Command::Vpn(c) => c.request(),
        Command::Apply { file, dry_run } => Request::Apply {
            // The daemon reads the file: give it the whole path.
            path: std::path::absolute(file)
                .unwrap_or_else(|_| file.clone())
                .display()
                .to_string(),
            dry_run: *dry_run,
        },
        Command::DescribeVpcEndpoints => Request::VpcEndpoints {},
        Command::DescribePrefixLists => Request::PrefixLists {},
        Command::CreateVpcEndpoint(c) => c.request(),
        Command::ModifyVpcEndpoint(m) => m.request(),
        Command::DeleteVpcEndpoints(d) => d.request(),
        Command::DeleteNatGateway { name } => Request::DeleteNatGateway { name: name.clone() },
        Command::DetachInternetGateway { name } => {
            Request::DetachInternetGateway { name: name.clone() }
        }
        Command::AttachInternetGateway { name, vpc } => Request::AttachInternetGateway {
            name: name.clone(),
            vpc: vpc.clone(),
        },
        Command::AllocateAddress { address } => Request::AllocateAddress {
            address: address.clone(),
        },
        Command::ReleaseAddress { address } => Request::ReleaseAddress {
            address: address.clone(),
        },
        Command::AssociateAddress { address, instance } => Request::AssociateAddress {
            address: address.clone(),
            instance: instance.clone(),
        },
        Command::DisassociateAddress { address } => Request::DisassociateAddress {
            address: address.clone(),
        },
        Command::AssociateRouteTable { table, gateway } => Request::AssociateRouteTable {
            table: table.clone(),
            gateway: gateway.clone(),
        },
        Command::DisassociateRouteTable { table, gateway } => Request::DisassociateRouteTable {
            table: table.clone(),
            gateway: gateway.clone(),
        },
        Command::ReplaceRoute {
            table,
            destination,
            network_interface,
            ..
        } => Request::ReplaceRoute {
            table: table.clone(),
            destination: destination.clone(),
            network_interface: network_interface.clone(),
        },
        Command::CreateVpcPeeringConnection {
            name,
            vpc,
            peer_vpc,
        } => Request::CreateVpcPeeringConnection {
            name: name.clone(),
            vpc: vpc.clone(),
            peer_vpc: peer_vpc.clone(),
        },
        Command::AcceptVpcPeeringConnection { name } => {
            Request::AcceptVpcPeeringConnection { name: name.clone() }
        }
        Command::DeleteVpcPeeringConnection { name } => {
            Request::DeleteVpcPeeringConnection { name: name.clone() }
        }
        Command::EnableTransitGatewayRouteTablePropagation(TableAttachment {
            table,
            attachment,
        }) => Request::EnableTransitGatewayRouteTablePropagation {
            table: table.clone(),
            attachment: attachment.clone(),
        },
        Command::DisableTransitGatewayRouteTablePropagation(TableAttachment {
            table,
            attachment,
        }) => Request::DisableTransitGatewayRouteTablePropagation {
            table: table.clone(),
            attachment: attachment.clone(),
        },
        Command::AssociateTransitGatewayRouteTable(TableAttachment { table, attachment }) => {
            Request::AssociateTransitGatewayRouteTable {
                table: table.clone(),
                attachment: attachment.clone(),
            }
        }
        Command::DisassociateTransitGatewayRouteTable(TableAttachment { table, attachment }) => {
            Request::DisassociateTransitGatewayRouteTable {
                table: table.clone(),
                attachment: attachment.clone(),
            }
        }
        Command::CreateTransitGatewayRoute {
            table,
            destination,
            attachment,
            blackhole,
        } => Request::CreateTransitGatewayRoute {
            table: table.clone(),
            destination: destination.clone(),
            attachment: attachment.clone(),
            blackhole: *blackhole,
        },
        Command::DeleteTransitGatewayRoute { table, destination } => {
            Request::DeleteTransitGatewayRoute {
                table: table.clone(),
                destination: destination.clone(),
            }
        }
        Command::AcceptTransitGatewayVpcAttachment { name } => {
            Request::AcceptTransitGatewayAttachment { name: name.clone() }
        }
        Command::DeleteTransitGatewayVpcAttachment { name } => {
            Request::DeleteTransitGatewayAttachment { name: name.clone() }
        }
        Command::RegisterTransitGatewayMulticastGroupMembers(g) => {
            Request::RegisterTransitGatewayMulticastGroupMembers {
                domain: g.domain.clone(),
                group: g.group.clone(),
                network_interfaces: g.network_interfaces.clone(),
            }
        }
        Command::DeregisterTransitGatewayMulticastGroupMembers(g) => {
            Request::DeregisterTransitGatewayMulticastGroupMembers {
                domain: g.domain.clone(),
                group: g.group.clone(),
                network_interfaces: g.network_interfaces.clone(),
            }
        }
        Command::RegisterTransitGatewayMulticastGroupSources(g) => {
            Request::RegisterTransitGatewayMulticastGroupSources {
                domain: g.domain.clone(),
                group: g.group.clone(),
                network_interfaces: g.network_interfaces.clone(),
            }
        }
        Command::ModifyInstanceMetadataOptions {
            instance,
            http_tokens,
            http_put_response_hop_limit,
            http_endpoint,
        } => Request::ModifyInstanceMetadataOptions {
            instance: instance.clone(),
            http_tokens: http_tokens.clone(),
            http_put_response_hop_limit: *http_put_response_hop_limit,
            http_endpoint: http_endpoint.clone(),
        },
        Command::DeregisterTransitGatewayMulticastGroupSources(g) => {
            Request::DeregisterTransitGatewayMulticastGroupSources {
                domain: g.domain.clone(),
                group: g.group.clone(),
                network_interfaces: g.network_interfaces.clone(),
            }
        }
    }
}

/// Runs vpcctl with command line `args` (program name first), writing to `out`.
pub fn run<I, T>(args: I, out: &mut impl Write) -> Result<(), CtlError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    let (raw, response) = ask(&cli, &request(&cli.command))?;
    if let Response::Error { message } = response {
        return Err(CtlError::Daemon(message));
    }
    if cli.json {
        out.write_all(raw.as_bytes())?;
        return Ok(());
    }
    match (response, cli.command) {
        (Response::Status(s), Command::Status) => print_status(out, &s)?,
        (Response::Routes(r), Command::Routes) => print_routes(out, &r)?,
        (Response::Counters(c), Command::Counters { all }) => print_counters(out, &c, all)?,
        (Response::Flows(f), Command::Flows { .. }) => print_flows(out, &f)?,
        (Response::Trace(t), Command::Trace { .. }) => print_trace(out, &t)?,
        (Response::NatGateways(n), Command::NatGateways { .. }) => print_nat_gateways(out, &n)?,
        (Response::Addresses(a), Command::Addresses) => print_addresses(out, &a)?,
        (Response::Tags(t), Command::DescribeTags { .. }) => print_tags(out, &t)?,
        (Response::VpcPeeringConnections(p), Command::DescribeVpcPeeringConnections) => {
            print_vpc_peering_connections(out, &p)?
        }
        (Response::TransitGateways(t), Command::DescribeTransitGateways) => {
            print_transit_gateways(out, &t)?
        }
        (Response::MulticastDomains(m), Command::DescribeTransitGatewayMulticastDomains) => {
            print_multicast_domains(out, &m)?
        }
        (Response::Applied(a), Command::Apply { .. }) => print_applied(out, &a)?,
        (r, Command::Dns(c)) => c.print(out, r)?,
        (r, Command::Vpn(c)) => c.print(out, r)?,
        (Response::VpcEndpoints(e), Command::DescribeVpcEndpoints) => {
            endpoints::print_vpc_endpoints(out, &e)?
        }
        (Response::PrefixLists(p), Command::DescribePrefixLists) => {
            endpoints::print_prefix_lists(out, &p)?
        }
        (
            Response::Done { message },
            Command::CreateVpcEndpoint(_)
            | Command::ModifyVpcEndpoint(_)
            | Command::DeleteVpcEndpoints(_)
            | Command::DeleteNatGateway { .. }
            | Command::DetachInternetGateway { .. }
            | Command::AttachInternetGateway { .. }
            | Command::AllocateAddress { .. }
            | Command::ReleaseAddress { .. }
            | Command::AssociateAddress { .. }
            | Command::DisassociateAddress { .. }
            | Command::AssociateRouteTable { .. }
            | Command::DisassociateRouteTable { .. }
            | Command::ReplaceRoute { .. }
            | Command::CreateVpcPeeringConnection { .. }
            | Command::AcceptVpcPeeringConnection { .. }
            | Command::DeleteVpcPeeringConnection { .. }
            | Command::EnableTransitGatewayRouteTablePropagation(_)
            | Command::DisableTransitGatewayRouteTablePropagation(_)
            | Command::AssociateTransitGatewayRouteTable(_)
            | Command::DisassociateTransitGatewayRouteTable(_)
            | Command::CreateTransitGatewayRoute { .. }
            | Command::DeleteTransitGatewayRoute { .. }
            | Command::AcceptTransitGatewayVpcAttachment { .. }
            | Command::DeleteTransitGatewayVpcAttachment { .. }
            | Command::RegisterTransitGatewayMulticastGroupMembers(_)
            | Command::DeregisterTransitGatewayMulticastGroupMembers(_)
            | Command::RegisterTransitGatewayMulticastGroupSources(_)
            | Command::DeregisterTransitGatewayMulticastGroupSources(_)
            | Command::ModifyInstanceMetadataOptions { .. },
        ) => writeln!(out, "{message}")?,
        _ => return Err(CtlError::Unexpected),
    }
    Ok(())
}

/// `vpcctl apply`: the plan, then what became of it.
fn print_applied(out: &mut impl Write, a: &vpc_api::ApplyReport) -> io::Result<()> {
    if a.changes.is_empty() {
        writeln!(out, "{}: no changes", a.path)?;
    } else {
        let n = a.changes.len();
        writeln!(
            out,
            "{}: {n} change{}",
            a.path,
            if n == 1 { "" } else { "s" }
        )?;
        for c in &a.changes {
            writeln!(out, "  {c}")?;
        }
        if a.applied {
            writeln!(out, "applied")?;
        } else {
            writeln!(out, "dry run: nothing applied")?;
        }
    }
    for note in &a.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

/// Sends one request; returns the raw response line and its decoding.
fn ask(cli: &Cli, request: &Request) -> Result<(String, Response), CtlError> {
    let mut stream = UnixStream::connect(&cli.socket).map_err(|source| CtlError::Connect {
        path: cli.socket.display().to_string(),
        source,
    })?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(CtlError::Socket)?;
    stream
        .write_all(&vpc_api::encode(request))
        .map_err(CtlError::Socket)?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(CtlError::Socket)?;
    let response = vpc_api::decode_response(line.as_bytes())?;
    Ok((line, response))
}

fn print_status(out: &mut impl Write, s: &Status) -> io::Result<()> {
    writeln!(
        out,
        "vpcd pid {}, up {}s, topology {}",
        s.pid, s.uptime_secs, s.config
    )?;
    for v in &s.vpcs {
        let account = if v.owner_id.is_empty() {
            String::new()
        } else {
            format!("; owner {}, region {}", v.owner_id, v.region)
        };
        writeln!(out, "\nvpc {} ({}){account}", v.name, v.cidrs.join(", "))?;
        let rows: Vec<Vec<String>> = v
            .subnets
            .iter()
            .map(|sub| {
                vec![
                    sub.name.clone(),
                    sub.cidr.clone(),
                    sub.az.clone(),
                    sub.route_table.clone(),
                ]
            })
            .collect();
        table(out, &["SUBNET", "CIDR", "AZ", "ROUTE TABLE"], &rows)?;
    }
    writeln!(out)?;
    let mut rows = Vec::new();
    for i in &s.instances {
        for e in &i.enis {
            let check = if e.source_dest_check { "on" } else { "off" };
            rows.push(vec![
                i.name.clone(),
                i.namespace.clone(),
                e.device.clone(),
                e.private_ip.clone(),
                e.subnet.clone(),
                check.to_owned(),
                e.link.clone(),
            ]);
        }
    }
    let header = [
        "INSTANCE",
        "NAMESPACE",
        "DEVICE",
        "PRIVATE IP",
        "SUBNET",
        "SRC/DST CHECK",
        "LINK",
    ];
    table(out, &header, &rows)?;
    print_metadata_options(out, s)?;
    if s.internet_hosts.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = s
        .internet_hosts
        .iter()
        .map(|h| {
            vec![
                h.name.clone(),
                h.namespace.clone(),
                h.device.clone(),
                h.address.clone(),
                h.link.clone(),
            ]
        })
        .collect();
    let header = ["INTERNET HOST", "NAMESPACE", "DEVICE", "ADDRESS", "LINK"];
    table(out, &header, &rows)
}

/// `vpcctl status`: each instance's metadata options (`metadataOptions`).
fn print_metadata_options(out: &mut impl Write, s: &Status) -> io::Result<()> {
    if s.instances.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = s
        .instances
        .iter()
        .map(|i| {
            let o = &i.metadata_options;
            vec![
                i.name.clone(),
                o.http_tokens.clone(),
                o.http_put_response_hop_limit.to_string(),
                o.http_endpoint.clone(),
            ]
        })
        .collect();
    let header = ["INSTANCE", "HTTP TOKENS", "HOP LIMIT", "HTTP ENDPOINT"];
    table(out, &header, &rows)
}

fn print_routes(out: &mut impl Write, r: &Routes) -> io::Result<()> {
    for (i, t) in r.tables.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let main = if t.main { ", main" } else { "" };
        let subnets = list_or_none(&t.subnets);
        let gateways = if t.gateways.is_empty() {
            String::new()
        } else {
            format!("; gateways: {}", t.gateways.join(", "))
        };
        let vgws = if t.propagating_vgws.is_empty() {
            String::new()
        } else {
            format!("; propagating: {}", t.propagating_vgws.join(", "))
        };
        writeln!(
            out,
            "route table {} (vpc {}{main}); subnets: {subnets}{gateways}{vgws}",
            t.name, t.vpc
        )?;
        let rows: Vec<Vec<String>> = t
            .routes
            .iter()
            .map(|r| {
                vec![
                    r.destination.clone(),
                    r.target.clone(),
                    r.state.clone(),
                    r.origin.clone(),
                ]
            })
            .collect();
        table(out, &["DESTINATION", "TARGET", "STATE", "ORIGIN"], &rows)?;
    }
    for (i, t) in r.transit_gateway_route_tables.iter().enumerate() {
        if i > 0 || !r.tables.is_empty() {
            writeln!(out)?;
        }
        let default = if t.default { ", default" } else { "" };
        writeln!(
            out,
            "transit gateway route table {} (transit gateway {}{default}); associations: {}; propagations: {}",
            t.name,
            t.transit_gateway,
            list_or_none(&t.associations),
            list_or_none(&t.propagations)
        )?;
        if t.routes.is_empty() {
            writeln!(out, "no routes")?;
            continue;
        }
        let rows: Vec<Vec<String>> = t
            .routes
            .iter()
            .map(|r| {
                vec![
                    r.destination.clone(),
                    r.target.clone(),
                    r.route_type.clone(),
                    r.state.clone(),
                ]
            })
            .collect();
        table(out, &["DESTINATION", "TARGET", "TYPE", "STATE"], &rows)?;
    }
    Ok(())
}

/// Names joined by commas, or `none`.
fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn print_counters(out: &mut impl Write, c: &CountersReport, all: bool) -> io::Result<()> {
    let ports = || c.enis.iter().chain(&c.hosts).chain([&c.services]);
    let rows: Vec<Vec<String>> = ports()
        .map(|e| {
            vec![
                e.name.clone(),
                e.rx_packets.to_string(),
                e.rx_bytes.to_string(),
                e.tx_packets.to_string(),
                e.tx_bytes.to_string(),
                e.tx_errors.to_string(),
                e.drops.values().sum::<u64>().to_string(),
            ]
        })
        .collect();
    let header = [
        "ENI / HOST",
        "RX PKTS",
        "RX BYTES",
        "TX PKTS",
        "TX BYTES",
        "TX ERRORS",
        "DROPS",
    ];
    table(out, &header, &rows)?;
    writeln!(out)?;
    let rows: Vec<Vec<String>> = c
        .drops
        .iter()
        .filter(|d| all || d.count > 0)
        .map(|d| vec![d.reason.clone(), d.count.to_string(), d.description.clone()])
        .collect();
    if rows.is_empty() {
        writeln!(out, "no drops (vpcctl counters --all lists every reason)")?;
    } else {
        table(out, &["DROP REASON", "PACKETS", "MEANING"], &rows)?;
    }
    let by_eni: Vec<Vec<String>> = ports()
        .flat_map(|e| {
            e.drops
                .iter()
                .map(|(r, n)| vec![e.name.clone(), r.clone(), n.to_string()])
        })
        .collect();
    if !by_eni.is_empty() {
        writeln!(out)?;
        table(out, &["FROM", "DROP REASON", "PACKETS"], &by_eni)?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = c
        .router
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    table(out, &["VPC ROUTER", "COUNT"], &rows)
}

fn print_flows(out: &mut impl Write, f: &FlowsReport) -> io::Result<()> {
    for (i, e) in f.enis.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}: {} tracked (inserted {}, expired {})",
            e.name, e.tracked, e.inserted, e.expired
        )?;
        if e.flows.is_empty() {
            continue;
        }
        let rows: Vec<Vec<String>> = e
            .flows
            .iter()
            .map(|f| {
                vec![
                    f.proto.clone(),
                    f.src.clone(),
                    f.dst.clone(),
                    f.state.clone(),
                    format!("{}s", f.expires_in_secs),
                    f.packets_original.to_string(),
                    f.packets_reply.to_string(),
                ]
            })
            .collect();
        let header = [
            "PROTO",
            "SOURCE",
            "DESTINATION",
            "STATE",
            "EXPIRES",
            "PKTS OUT",
            "PKTS BACK",
        ];
        table(out, &header, &rows)?;
    }
    Ok(())
}

fn print_trace(out: &mut impl Write, t: &TraceReport) -> io::Result<()> {
    writeln!(out, "trace {}", t.probe)?;
    let rows: Vec<Vec<String>> = t
        .steps
        .iter()
        .map(|s| vec![format!("  {}", s.stage), s.decision.clone()])
        .collect();
    table(out, &["  STAGE", "DECISION"], &rows)?;
    writeln!(out, "verdict: {}", t.verdict)?;
    if !t.because.is_empty() {
        writeln!(out, "because: {}", t.because)?;
    }
    Ok(())
}

fn print_nat_gateways(out: &mut impl Write, r: &NatGatewaysReport) -> io::Result<()> {
    if r.nat_gateways.is_empty() {
        return writeln!(out, "no NAT gateways");
    }
    for (i, n) in r.nat_gateways.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "nat gateway {} ({}; subnet {}, az {}): {}; source ports {}",
            n.name, n.connectivity, n.subnet, n.az, n.state, n.source_ports
        )?;
        let rows: Vec<Vec<String>> = n
            .addresses
            .iter()
            .map(|a| {
                vec![
                    format!("  {}", a.private_ip),
                    a.elastic_ip.clone().unwrap_or_else(|| "-".to_owned()),
                ]
            })
            .collect();
        table(out, &["  PRIVATE IP", "ELASTIC IP"], &rows)?;
        let rows: Vec<Vec<String>> = n
            .metrics
            .named()
            .iter()
            .map(|(name, value)| vec![format!("  {name}"), value.to_string()])
            .collect();
        table(out, &["  METRIC", "VALUE"], &rows)?;
        let Some(mappings) = &n.mappings else {
            continue;
        };
        if mappings.is_empty() {
            writeln!(out, "  no translations")?;
            continue;
        }
        let rows: Vec<Vec<String>> = mappings
            .iter()
            .map(|m| {
                vec![
                    format!("  {}", m.proto),
                    m.inside.clone(),
                    "->".to_owned(),
                    m.outside.clone(),
                    "->".to_owned(),
                    m.remote.clone(),
                    format!("{}s", m.expires_in_secs),
                ]
            })
            .collect();
        let header = ["  PROTO", "INSIDE", "", "NAT", "", "REMOTE", "EXPIRES"];
        table(out, &header, &rows)?;
    }
    Ok(())
}

fn print_tags(out: &mut impl Write, t: &TagsReport) -> io::Result<()> {
    if t.tags.is_empty() {
        return writeln!(out, "no tags");
    }
    let rows: Vec<Vec<String>> = t
        .tags
        .iter()
        .map(|t| vec![t.resource_id.clone(), t.key.clone(), t.value.clone()])
        .collect();
    table(out, &["RESOURCE ID", "KEY", "VALUE"], &rows)
}

fn print_addresses(out: &mut impl Write, a: &AddressesReport) -> io::Result<()> {
    let rows: Vec<Vec<String>> = a
        .elastic_ips
        .iter()
        .map(|e| {
            vec![
                e.address.clone(),
                e.name.clone(),
                e.association.clone().unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    if rows.is_empty() {
        writeln!(out, "no Elastic IPs")?;
    } else {
        table(out, &["ELASTIC IP", "NAME", "ASSOCIATION"], &rows)?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = a
        .public_ips
        .iter()
        .map(|p| {
            vec![
                p.eni.clone(),
                p.private_ip.clone(),
                p.public_ip.clone(),
                p.kind.clone(),
            ]
        })
        .collect();
    if rows.is_empty() {
        writeln!(out, "no network interface has a public address")?;
    } else {
        table(out, &["ENI", "PRIVATE IP", "PUBLIC IP", "KIND"], &rows)?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = a
        .internet_gateways
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                g.vpc
                    .as_ref()
                    .map_or("detached".to_owned(), |v| format!("attached to {v}")),
            ]
        })
        .collect();
    if rows.is_empty() {
        writeln!(out, "no internet gateways")?;
    } else {
        table(out, &["INTERNET GATEWAY", "STATE"], &rows)?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = a
        .internet_hosts
        .iter()
        .map(|h| vec![h.name.clone(), h.address.clone()])
        .collect();
    if rows.is_empty() {
        writeln!(out, "no internet hosts")
    } else {
        table(out, &["INTERNET HOST", "ADDRESS"], &rows)
    }
}

fn print_vpc_peering_connections(
    out: &mut impl Write,
    r: &VpcPeeringConnectionsReport,
) -> io::Result<()> {
    if r.vpc_peering_connections.is_empty() {
        return writeln!(out, "no VPC peering connections");
    }
    for (i, p) in r.vpc_peering_connections.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let inter_region = if p.inter_region { "yes" } else { "no" };
        writeln!(
            out,
            "vpc peering connection {}: {}; inter-region {inter_region}, MTU {}",
            p.name, p.status, p.mtu
        )?;
        let rows: Vec<Vec<String>> = [("requester", &p.requester), ("accepter", &p.accepter)]
            .into_iter()
            .map(|(side, v)| {
                vec![
                    format!("  {side}"),
                    v.vpc.clone(),
                    v.cidrs.join(", "),
                    v.owner_id.clone(),
                    v.region.clone(),
                ]
            })
            .collect();
        table(out, &["  SIDE", "VPC", "CIDRS", "OWNER", "REGION"], &rows)?;
    }
    Ok(())
}

fn print_transit_gateways(out: &mut impl Write, r: &TransitGatewaysReport) -> io::Result<()> {
    if r.transit_gateways.is_empty() {
        return writeln!(out, "no transit gateways");
    }
    let option = |on: bool| if on { "enable" } else { "disable" };
    for (i, g) in r.transit_gateways.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "transit gateway {} (owner {}, region {}, ASN {}); default route table: {}",
            g.name,
            g.owner_id,
            g.region,
            g.amazon_side_asn,
            g.default_route_table.as_deref().unwrap_or("none")
        )?;
        writeln!(
            out,
            "  options: default association {}, default propagation {}, auto-accept shared attachments {}, multicast {}",
            option(g.default_route_table_association),
            option(g.default_route_table_propagation),
            option(g.auto_accept_shared_attachments),
            option(g.multicast_support)
        )?;
        writeln!(out, "  shared with: {}", list_or_none(&g.shared_with))?;
        let rows: Vec<Vec<String>> = g
            .metrics
            .named()
            .iter()
            .map(|(name, value)| vec![format!("  {name}"), value.to_string()])
            .collect();
        table(out, &["  METRIC", "VALUE"], &rows)?;
        if g.attachments.is_empty() {
            writeln!(out, "  no attachments")?;
            continue;
        }
        let dash = |s: String| if s.is_empty() { "-".to_owned() } else { s };
        let rows: Vec<Vec<String>> = g
            .attachments
            .iter()
            .map(|a| {
                let (resource, appliance_mode) = match (&a.vpc, &a.peer) {
                    (Some(vpc), _) => (vpc.clone(), option(a.appliance_mode).to_owned()),
                    (None, Some(peer)) => {
                        // The peer's side: the other one from this gateway's.
                        let peer_role = match a.peering_role.as_deref() {
                            Some("requester") => " (accepter)",
                            Some("accepter") => " (requester)",
                            _ => "",
                        };
                        (format!("{peer}{peer_role}"), "-".to_owned())
                    }
                    (None, None) => ("-".to_owned(), "-".to_owned()),
                };
                let subnets: Vec<String> = a
                    .subnets
                    .iter()
                    .map(|s| format!("{} {}", s.subnet, s.private_ip))
                    .collect();
                vec![
                    format!("  {}", a.name),
                    a.kind.clone(),
                    resource,
                    dash(subnets.join(", ")),
                    appliance_mode,
                    a.status.clone(),
                    a.association.clone().unwrap_or_else(|| "-".to_owned()),
                    dash(a.propagations.join(", ")),
                ]
            })
            .collect();
        let header = [
            "  ATTACHMENT",
            "KIND",
            "RESOURCE",
            "SUBNETS",
            "APPLIANCE MODE",
            "STATUS",
            "ROUTE TABLE",
            "PROPAGATES INTO",
        ];
        table(out, &header, &rows)?;
    }
    Ok(())
}

fn print_multicast_domains(out: &mut impl Write, r: &MulticastDomainsReport) -> io::Result<()> {
    if r.multicast_domains.is_empty() {
        return writeln!(out, "no transit gateway multicast domains");
    }
    for (i, d) in r.multicast_domains.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let igmpv2 = if d.igmpv2 { "enable" } else { "disable" };
        writeln!(
            out,
            "multicast domain {} (transit gateway {}); IGMPv2 {igmpv2}",
            d.name, d.transit_gateway
        )?;
        if d.associations.is_empty() {
            writeln!(out, "  no associated subnets")?;
        } else {
            let rows: Vec<Vec<String>> = d
                .associations
                .iter()
                .map(|a| vec![format!("  {}", a.attachment), a.subnet.clone()])
                .collect();
            table(out, &["  ATTACHMENT", "SUBNET"], &rows)?;
        }
        if d.groups.is_empty() {
            writeln!(out, "  no group members or sources")?;
            continue;
        }
        let rows: Vec<Vec<String>> = d
            .groups
            .iter()
            .map(|g| {
                vec![
                    format!("  {}", g.group),
                    list_or_none(&g.members),
                    list_or_none(&g.joined),
                    list_or_none(&g.sources),
                ]
            })
            .collect();
        table(
            out,
            &["  GROUP", "MEMBERS", "JOINED (IGMP)", "SOURCES"],
            &rows,
        )?;
    }
    Ok(())
}

/// Writes rows under a header, columns left-aligned to their widest cell.
fn table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let cells = std::iter::once(header.to_vec())
        .chain(rows.iter().map(|r| r.iter().map(String::as_str).collect()));
    for row in cells {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", padded.join("  ").trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["web/eth0".to_owned(), "3".to_owned()],
            vec!["a".to_owned(), "12345".to_owned()],
        ];
        table(&mut out, &["ENI", "PKTS"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ENI       PKTS\nweb/eth0  3\na         12345\n"
        );
    }

    /// The request a command line sends.
    fn parsed(args: &[&str]) -> Request {
        let cli = Cli::try_parse_from(std::iter::once("vpcctl").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        request(&cli.command)
    }

    #[test]
    fn apply_sends_the_file_s_whole_path() {
        assert_eq!(
            parsed(&["apply", "/etc/vpcd/v2.toml"]),
            Request::Apply {
                path: "/etc/vpcd/v2.toml".into(),
                dry_run: false
            }
        );
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            parsed(&["apply", "--dry-run", "v2.toml"]),
            Request::Apply {
                path: cwd.join("v2.toml").display().to_string(),
                dry_run: true
            }
        );
    }

    #[test]
    fn an_apply_report_prints_the_plan_and_its_outcome() {
        let report = |changes: &[&str], applied| vpc_api::ApplyReport {
            path: "/x/v2.toml".into(),
            changes: changes.iter().map(|c| (*c).to_owned()).collect(),
            applied,
            notes: vec![],
        };
        let print = |a: &vpc_api::ApplyReport| {
            let mut out = Vec::new();
            print_applied(&mut out, a).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            print(&report(&["+ subnet extra"], true)),
            "/x/v2.toml: 1 change\n  + subnet extra\napplied\n"
        );
        assert_eq!(
            print(&report(&["+ subnet a", "- instance b"], false)),
            "/x/v2.toml: 2 changes\n  + subnet a\n  - instance b\ndry run: nothing applied\n"
        );
        assert_eq!(print(&report(&[], false)), "/x/v2.toml: no changes\n");
    }

    #[test]
    fn gateway_and_address_commands_parse_into_their_requests() {
        assert_eq!(
            parsed(&["nat-gateways"]),
            Request::NatGateways {
                name: None,
                mappings: false
            }
        );
        assert_eq!(
            parsed(&["nat-gateways", "nat-a", "--mappings"]),
            Request::NatGateways {
                name: Some("nat-a".into()),
                mappings: true
            }
        );
        assert_eq!(parsed(&["addresses"]), Request::Addresses {});
        assert_eq!(
            parsed(&["describe-tags", "--resource-id", "vpc-1"]),
            Request::Tags {
                resource_id: Some("vpc-1".into())
            }
        );
        let mut out = Vec::new();
        print_tags(
            &mut out,
            &TagsReport {
                tags: vec![vpc_api::TagReport {
                    resource_id: "vpc-0123456789abcdef0".into(),
                    key: "env".into(),
                    value: "dev".into(),
                }],
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "RESOURCE ID            KEY  VALUE\nvpc-0123456789abcdef0  env  dev\n"
        );
        assert_eq!(
            parsed(&["delete-nat-gateway", "nat-a"]),
            Request::DeleteNatGateway {
                name: "nat-a".into()
            }
        );
        assert_eq!(
            parsed(&["detach-internet-gateway", "igw"]),
            Request::DetachInternetGateway { name: "igw".into() }
        );
        assert_eq!(
            parsed(&["attach-internet-gateway", "igw", "demo"]),
            Request::AttachInternetGateway {
                name: "igw".into(),
                vpc: "demo".into()
            }
        );
        assert_eq!(
            parsed(&["allocate-address", "198.51.100.30"]),
            Request::AllocateAddress {
                address: "198.51.100.30".into()
            }
        );
        assert_eq!(
            parsed(&["release-address", "198.51.100.30"]),
            Request::ReleaseAddress {
                address: "198.51.100.30".into()
            }
        );
        assert_eq!(
            parsed(&["associate-address", "198.51.100.30", "app"]),
            Request::AssociateAddress {
                address: "198.51.100.30".into(),
                instance: "app".into()
            }
        );
        assert_eq!(
            parsed(&["disassociate-address", "198.51.100.30"]),
            Request::DisassociateAddress {
                address: "198.51.100.30".into()
            }
        );
        assert_eq!(
            parsed(&["associate-route-table", "ingress-rt", "--gateway-id", "igw"]),
            Request::AssociateRouteTable {
                table: "ingress-rt".into(),
                gateway: "igw".into()
            }
        );
        assert_eq!(
            parsed(&[
                "disassociate-route-table",
                "ingress-rt",
                "--gateway-id",
                "igw"
            ]),
            Request::DisassociateRouteTable {
                table: "ingress-rt".into(),
                gateway: "igw".into()
            }
        );
        let replace = [
            "replace-route",
            "public-rt",
            "--destination-cidr-block",
            "10.0.0.0/16",
        ];
        assert_eq!(
            parsed(&[&replace[..], &["--network-interface-id", "fw"]].concat()),
            Request::ReplaceRoute {
                table: "public-rt".into(),
                destination: "10.0.0.0/16".into(),
                network_interface: Some("fw".into())
            }
        );
        assert_eq!(
            parsed(&[&replace[..], &["--local-target"]].concat()),
            Request::ReplaceRoute {
                table: "public-rt".into(),
                destination: "10.0.0.0/16".into(),
                network_interface: None
            }
        );
        // Missing arguments are usage errors, and so is a target and --local-target.
        let mut out = Vec::new();
        let both = [
            &["vpcctl"][..],
            &replace[..],
            &["--local-target", "--network-interface-id", "fw"],
        ]
        .concat();
        let neither = [&["vpcctl"][..], &replace[..]].concat();
        for args in [
            &["vpcctl", "delete-nat-gateway"][..],
            &["vpcctl", "attach-internet-gateway", "igw"],
            &["vpcctl", "associate-address", "198.51.100.30"],
            &["vpcctl", "associate-route-table", "ingress-rt"],
            &both,
            &neither,
        ] {
            assert!(
                matches!(run(args, &mut out), Err(CtlError::Usage(_))),
                "{args:?}"
            );
        }
    }

    #[test]
    fn routes_print_edge_associations_and_origins() {
        let route = |destination: &str, target: &str, origin: &str| vpc_api::RouteReport {
            destination: destination.into(),
            target: target.into(),
            state: "active".into(),
            origin: origin.into(),
        };
        let report = Routes {
            tables: vec![vpc_api::RouteTableReport {
                name: "ingress-rt".into(),
                vpc: "ingress".into(),
                main: false,
                subnets: vec![],
                gateways: vec!["igw".into()],
                propagating_vgws: vec!["vgw".into()],
                routes: vec![
                    route("10.0.0.0/16", "fw/eth0", "CreateRouteTable"),
                    route("10.0.1.0/24", "fw/eth0", "CreateRoute"),
                ],
            }],
            transit_gateway_route_tables: vec![],
        };
        let mut out = Vec::new();
        print_routes(&mut out, &report).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
route table ingress-rt (vpc ingress); subnets: none; gateways: igw; propagating: vgw
DESTINATION  TARGET   STATE   ORIGIN
10.0.0.0/16  fw/eth0  active  CreateRouteTable
10.0.1.0/24  fw/eth0  active  CreateRoute
"
        );
    }

    #[test]
    fn routes_print_transit_gateway_route_tables_after_the_vpc_tables() {
        let tgw_route =
            |destination: &str, target: &str, kind: &str, state: &str| vpc_api::TgwRouteReport {
                destination: destination.into(),
                target: target.into(),
                route_type: kind.into(),
                state: state.into(),
            };
        let tgw_table = |name: &str, default: bool, routes| vpc_api::TgwRouteTableReport {
            name: name.into(),
            transit_gateway: "tgw".into(),
            default,
            associations: vec![],
            propagations: vec![],
            routes,
        };
        let report = Routes {
            tables: vec![vpc_api::RouteTableReport {
                name: "spoke1-rt".into(),
                vpc: "spoke1".into(),
                main: false,
                subnets: vec!["spoke1-1".into()],
                gateways: vec![],
                propagating_vgws: vec![],
                routes: vec![
                    vpc_api::RouteReport {
                        destination: "10.0.0.0/8".into(),
                        target: "tgw".into(),
                        state: "active".into(),
                        origin: "CreateRoute".into(),
                    },
                    vpc_api::RouteReport {
                        destination: "10.11.0.0/16".into(),
                        target: "local".into(),
                        state: "active".into(),
                        origin: "CreateRouteTable".into(),
                    },
                ],
            }],
            transit_gateway_route_tables: vec![
                vpc_api::TgwRouteTableReport {
                    associations: vec!["att-s1".into(), "att-s2".into()],
                    propagations: vec!["att-shared".into()],
                    ..tgw_table(
                        "spokes-rt",
                        false,
                        vec![
                            tgw_route("10.10.0.0/16", "att-shared", "propagated", "active"),
                            tgw_route("10.99.0.0/16", "blackhole", "static", "blackhole"),
                        ],
                    )
                },
                tgw_table("tgw-default", true, vec![]),
            ],
        };
        let mut out = Vec::new();
        print_routes(&mut out, &report).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
route table spoke1-rt (vpc spoke1); subnets: spoke1-1
DESTINATION   TARGET  STATE   ORIGIN
10.0.0.0/8    tgw     active  CreateRoute
10.11.0.0/16  local   active  CreateRouteTable

transit gateway route table spokes-rt (transit gateway tgw); associations: att-s1, att-s2; propagations: att-shared
DESTINATION   TARGET      TYPE        STATE
10.10.0.0/16  att-shared  propagated  active
10.99.0.0/16  blackhole   static      blackhole

transit gateway route table tgw-default (transit gateway tgw, default); associations: none; propagations: none
no routes
"
        );
    }

    #[test]
    fn modify_instance_metadata_options_is_parsed_and_checked() {
        assert_eq!(
            parsed(&[
                "modify-instance-metadata-options",
                "--instance-id",
                "web",
                "--http-tokens",
                "required",
                "--http-put-response-hop-limit",
                "2",
            ]),
            Request::ModifyInstanceMetadataOptions {
                instance: "web".into(),
                http_tokens: Some("required".into()),
                http_put_response_hop_limit: Some(2),
                http_endpoint: None,
            }
        );
        assert_eq!(
            parsed(&[
                "modify-instance-metadata-options",
                "--instance-id",
                "web",
                "--http-endpoint",
                "disabled",
            ]),
            Request::ModifyInstanceMetadataOptions {
                instance: "web".into(),
                http_tokens: None,
                http_put_response_hop_limit: None,
                http_endpoint: Some("disabled".into()),
            }
        );
        let mut out = Vec::new();
        let m = "modify-instance-metadata-options";
        for args in [
            &["vpcctl", m][..],
            &[
                "vpcctl",
                m,
                "--instance-id",
                "web",
                "--http-tokens",
                "always",
            ],
            &[
                "vpcctl",
                m,
                "--instance-id",
                "web",
                "--http-put-response-hop-limit",
                "0",
            ],
            &[
                "vpcctl",
                m,
                "--instance-id",
                "web",
                "--http-put-response-hop-limit",
                "65",
            ],
            &["vpcctl", m, "--instance-id", "web", "--http-endpoint", "on"],
        ] {
            assert!(
                matches!(run(args, &mut out), Err(CtlError::Usage(_))),
                "{args:?}"
            );
        }
    }

    #[test]
    fn status_prints_metadata_options() {
        let instance = |name: &str, tokens: &str, hops: u8| vpc_api::InstanceStatus {
            name: name.into(),
            namespace: format!("vpcd-{name}"),
            enis: vec![],
            metadata_options: vpc_api::MetadataOptionsStatus {
                http_tokens: tokens.into(),
                http_put_response_hop_limit: hops,
                http_endpoint: "enabled".into(),
            },
        };
        let report = Status {
            pid: 7,
            uptime_secs: 3,
            config: "x.toml".into(),
            vpcs: vec![],
            instances: vec![
                instance("web", "required", 2),
                instance("db", "optional", 1),
            ],
            internet_hosts: vec![],
        };
        let mut out = Vec::new();
        print_status(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with(
                "\
INSTANCE  HTTP TOKENS  HOP LIMIT  HTTP ENDPOINT
web       required     2          enabled
db        optional     1          enabled
"
            ),
            "{text}"
        );
    }

    #[test]
    fn status_prints_each_vpcs_owner_and_region() {
        let report = Status {
            pid: 7,
            uptime_secs: 3,
            config: "config/peering.toml".into(),
            vpcs: vec![vpc_api::VpcStatus {
                name: "c".into(),
                cidrs: vec!["10.3.0.0/16".into()],
                owner_id: "444455556666".into(),
                region: "eu-west-1".into(),
                subnets: vec![vpc_api::SubnetStatus {
                    name: "c-1".into(),
                    cidr: "10.3.1.0/24".into(),
                    az: "a".into(),
                    route_table: "c-rt".into(),
                }],
            }],
            instances: vec![],
            internet_hosts: vec![],
        };
        let mut out = Vec::new();
        print_status(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "\
vpcd pid 7, up 3s, topology config/peering.toml

vpc c (10.3.0.0/16); owner 444455556666, region eu-west-1
SUBNET  CIDR         AZ  ROUTE TABLE
c-1     10.3.1.0/24  a   c-rt
"
            ),
            "{text}"
        );
    }

    #[test]
    fn nat_gateways_print_addresses_cloudwatch_metrics_and_mappings() {
        let report = NatGatewaysReport {
            nat_gateways: vec![vpc_api::NatGatewayReport {
                name: "nat-a".into(),
                subnet: "public-a".into(),
                az: "a".into(),
                connectivity: "public".into(),
                state: "available".into(),
                source_ports: "1024-65535".into(),
                addresses: vec![vpc_api::NatAddressReport {
                    private_ip: "10.0.1.5".into(),
                    elastic_ip: Some("198.51.100.20".into()),
                }],
                metrics: vpc_api::NatMetricsReport {
                    error_port_allocation: 2,
                    ..Default::default()
                },
                mappings: Some(vec![vpc_api::NatMappingReport {
                    proto: "tcp".into(),
                    inside: "10.0.2.10:40000".into(),
                    outside: "10.0.1.5:1024".into(),
                    remote: "203.0.113.10:80".into(),
                    expires_in_secs: 349,
                }]),
            }],
        };
        let mut out = Vec::new();
        print_nat_gateways(&mut out, &report).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
nat gateway nat-a (public; subnet public-a, az a): available; source ports 1024-65535
  PRIVATE IP  ELASTIC IP
  10.0.1.5    198.51.100.20
  METRIC                      VALUE
  ActiveConnectionCount       0
  ConnectionAttemptCount      0
  ConnectionEstablishedCount  0
  ErrorPortAllocation         2
  IdleTimeoutCount            0
  PacketsDropCount            0
  BytesInFromSource           0
  BytesOutToDestination       0
  BytesInFromDestination      0
  BytesOutToSource            0
  PacketsInFromSource         0
  PacketsOutToDestination     0
  PacketsInFromDestination    0
  PacketsOutToSource          0
  PROTO  INSIDE               NAT                REMOTE           EXPIRES
  tcp    10.0.2.10:40000  ->  10.0.1.5:1024  ->  203.0.113.10:80  349s
"
        );
    }

    #[test]
    fn addresses_print_associations_gateways_and_hosts() {
        let report = AddressesReport {
            elastic_ips: vec![
                vpc_api::ElasticIpReport {
                    address: "198.51.100.10".into(),
                    name: "web-eip".into(),
                    association: Some("web/eth0".into()),
                },
                vpc_api::ElasticIpReport {
                    address: "198.51.100.20".into(),
                    name: "nat-a-eip".into(),
                    association: Some("nat-a address #0 (10.0.1.5)".into()),
                },
                vpc_api::ElasticIpReport {
                    address: "198.51.100.30".into(),
                    name: "eip-198-51-100-30".into(),
                    association: None,
                },
            ],
            public_ips: vec![vpc_api::PublicIpReport {
                eni: "web/eth0".into(),
                private_ip: "10.0.1.10".into(),
                public_ip: "198.51.100.10".into(),
                kind: "elastic-ip".into(),
            }],
            internet_gateways: vec![vpc_api::InternetGatewayReport {
                name: "igw".into(),
                vpc: None,
            }],
            internet_hosts: vec![vpc_api::InternetHostReport {
                name: "internet".into(),
                address: "203.0.113.10".into(),
            }],
        };
        let mut out = Vec::new();
        print_addresses(&mut out, &report).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
ELASTIC IP     NAME               ASSOCIATION
198.51.100.10  web-eip            web/eth0
198.51.100.20  nat-a-eip          nat-a address #0 (10.0.1.5)
198.51.100.30  eip-198-51-100-30  -

ENI       PRIVATE IP  PUBLIC IP      KIND
web/eth0  10.0.1.10   198.51.100.10  elastic-ip

INTERNET GATEWAY  STATE
igw               detached

INTERNET HOST  ADDRESS
internet       203.0.113.10
"
        );
    }

    #[test]
    fn views_parse_into_their_requests() {
        assert_eq!(
            parsed(&["describe-vpc-peering-connections"]),
            Request::VpcPeeringConnections {}
        );
        assert_eq!(
            parsed(&["describe-transit-gateways"]),
            Request::TransitGateways {}
        );
        assert_eq!(
            parsed(&["describe-transit-gateway-multicast-domains"]),
            Request::MulticastDomains {}
        );
    }

    #[test]
    fn peering_commands_parse_into_their_requests() {
        assert_eq!(
            parsed(&[
                "create-vpc-peering-connection",
                "--vpc-peering-connection-id",
                "a-c",
                "--vpc-id",
                "a",
                "--peer-vpc-id",
                "c"
            ]),
            Request::CreateVpcPeeringConnection {
                name: "a-c".into(),
                vpc: "a".into(),
                peer_vpc: "c".into()
            }
        );
        assert_eq!(
            parsed(&[
                "accept-vpc-peering-connection",
                "--vpc-peering-connection-id",
                "a-c"
            ]),
            Request::AcceptVpcPeeringConnection { name: "a-c".into() }
        );
        assert_eq!(
            parsed(&[
                "delete-vpc-peering-connection",
                "--vpc-peering-connection-id",
                "a-c"
            ]),
            Request::DeleteVpcPeeringConnection { name: "a-c".into() }
        );
        let mut out = Vec::new();
        for args in [
            &[
                "vpcctl",
                "create-vpc-peering-connection",
                "--vpc-peering-connection-id",
                "x",
                "--vpc-id",
                "a",
            ][..],
            &["vpcctl", "accept-vpc-peering-connection"],
            &["vpcctl", "delete-vpc-peering-connection", "a-c"],
        ] {
            assert!(
                matches!(run(args, &mut out), Err(CtlError::Usage(_))),
                "{args:?}"
            );
        }
    }

    #[test]
    fn transit_gateway_route_table_commands_parse_into_their_requests() {
        let both = |command: &'static str| {
            [
                command,
                "--transit-gateway-route-table-id",
                "spokes-rt",
                "--transit-gateway-attachment-id",
                "att-s1",
            ]
        };
        let (table, attachment) = (String::from("spokes-rt"), String::from("att-s1"));
        assert_eq!(
            parsed(&both("enable-transit-gateway-route-table-propagation")),
            Request::EnableTransitGatewayRouteTablePropagation {
                table: table.clone(),
                attachment: attachment.clone()
            }
        );
        assert_eq!(
            parsed(&both("disable-transit-gateway-route-table-propagation")),
            Request::DisableTransitGatewayRouteTablePropagation {
                table: table.clone(),
                attachment: attachment.clone()
            }
        );
        assert_eq!(
            parsed(&both("associate-transit-gateway-route-table")),
            Request::AssociateTransitGatewayRouteTable {
                table: table.clone(),
                attachment: attachment.clone()
            }
        );
        assert_eq!(
            parsed(&both("disassociate-transit-gateway-route-table")),
            Request::DisassociateTransitGatewayRouteTable {
                table: table.clone(),
                attachment: attachment.clone()
            }
        );
        let route = [
            "create-transit-gateway-route",
            "--transit-gateway-route-table-id",
            "spokes-rt",
            "--destination-cidr-block",
            "10.12.0.0/16",
        ];
        assert_eq!(
            parsed(&[&route[..], &["--transit-gateway-attachment-id", "att-s1"]].concat()),
            Request::CreateTransitGatewayRoute {
                table: table.clone(),
                destination: "10.12.0.0/16".into(),
                attachment: Some(attachment.clone()),
                blackhole: false
            }
        );
        assert_eq!(
            parsed(&[&route[..], &["--blackhole"]].concat()),
            Request::CreateTransitGatewayRoute {
                table: table.clone(),
                destination: "10.12.0.0/16".into(),
                attachment: None,
                blackhole: true
            }
        );
        assert_eq!(
            parsed(&[
                "delete-transit-gateway-route",
                "--transit-gateway-route-table-id",
                "spokes-rt",
                "--destination-cidr-block",
                "10.12.0.0/16"
            ]),
            Request::DeleteTransitGatewayRoute {
                table,
                destination: "10.12.0.0/16".into()
            }
        );
        for command in [
            "accept-transit-gateway-vpc-attachment",
            "accept-transit-gateway-peering-attachment",
        ] {
            assert_eq!(
                parsed(&[command, "--transit-gateway-attachment-id", "east-west"]),
                Request::AcceptTransitGatewayAttachment {
                    name: "east-west".into()
                }
            );
        }
        for command in [
            "delete-transit-gateway-vpc-attachment",
            "delete-transit-gateway-peering-attachment",
        ] {
            assert_eq!(
                parsed(&[command, "--transit-gateway-attachment-id", "east-west"]),
                Request::DeleteTransitGatewayAttachment {
                    name: "east-west".into()
                }
            );
        }
        // A route needs exactly one target; the other commands need both options.
        let mut out = Vec::new();
        let neither = [&["vpcctl"][..], &route[..]].concat();
        let two_targets = [
            &["vpcctl"][..],
            &route[..],
            &["--blackhole", "--transit-gateway-attachment-id", "att-s1"],
        ]
        .concat();
        for args in [
            &neither[..],
            &two_targets,
            &[
                "vpcctl",
                "associate-transit-gateway-route-table",
                "--transit-gateway-route-table-id",
                "spokes-rt",
            ],
            &["vpcctl", "accept-transit-gateway-vpc-attachment", "att-x"],
        ] {
            assert!(
                matches!(run(args, &mut out), Err(CtlError::Usage(_))),
                "{args:?}"
            );
        }
    }

    #[test]
    fn multicast_commands_parse_into_their_requests() {
        let args = |command: &'static str, enis: &[&'static str]| {
            let mut v = vec![
                command,
                "--transit-gateway-multicast-domain-id",
                "mcast",
                "--group-ip-address",
                "239.1.1.1",
                "--network-interface-ids",
            ];
            v.extend_from_slice(enis);
            v
        };
        let (domain, group) = (String::from("mcast"), String::from("239.1.1.1"));
        let two = vec!["recv".to_owned(), "recv2/eth1".to_owned()];
        assert_eq!(
            parsed(&args(
                "register-transit-gateway-multicast-group-members",
                &["recv", "recv2/eth1"]
            )),
            Request::RegisterTransitGatewayMulticastGroupMembers {
                domain: domain.clone(),
                group: group.clone(),
                network_interfaces: two.clone()
            }
        );
        assert_eq!(
            parsed(&args(
                "deregister-transit-gateway-multicast-group-members",
                &["recv", "recv2/eth1"]
            )),
            Request::DeregisterTransitGatewayMulticastGroupMembers {
                domain: domain.clone(),
                group: group.clone(),
                network_interfaces: two
            }
        );
        assert_eq!(
            parsed(&args(
                "register-transit-gateway-multicast-group-sources",
                &["sender"]
            )),
            Request::RegisterTransitGatewayMulticastGroupSources {
                domain: domain.clone(),
                group: group.clone(),
                network_interfaces: vec!["sender".into()]
            }
        );
        assert_eq!(
            parsed(&args(
                "deregister-transit-gateway-multicast-group-sources",
                &["sender"]
            )),
            Request::DeregisterTransitGatewayMulticastGroupSources {
                domain,
                group,
                network_interfaces: vec!["sender".into()]
            }
        );
        // Without an interface, or without the group, it is a usage error.
        let mut out = Vec::new();
        let no_eni = [
            &["vpcctl"][..],
            &args("register-transit-gateway-multicast-group-members", &[]),
        ]
        .concat();
        let no_group = [
            "vpcctl",
            "register-transit-gateway-multicast-group-sources",
            "--transit-gateway-multicast-domain-id",
            "mcast",
            "--network-interface-ids",
            "sender",
        ];
        for args in [&no_eni[..], &no_group] {
            assert!(
                matches!(run(args, &mut out), Err(CtlError::Usage(_))),
                "{args:?}"
            );
        }
    }

    #[test]
    fn peering_connections_print_both_sides_and_the_mtu() {
        let side =
            |vpc: &str, cidrs: &[&str], owner: &str, region: &str| vpc_api::PeeringVpcReport {
                vpc: vpc.into(),
                cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
                owner_id: owner.into(),
                region: region.into(),
            };
        let report = VpcPeeringConnectionsReport {
            vpc_peering_connections: vec![
                vpc_api::VpcPeeringConnectionReport {
                    name: "a-b".into(),
                    requester: side("a", &["10.1.0.0/16"], "123456789012", "us-east-1"),
                    accepter: side(
                        "b",
                        &["10.2.0.0/16", "10.20.0.0/16"],
                        "123456789012",
                        "us-east-1",
                    ),
                    status: "active".into(),
                    inter_region: false,
                    mtu: 9001,
                },
                vpc_api::VpcPeeringConnectionReport {
                    name: "a-w".into(),
                    requester: side("a", &["10.1.0.0/16"], "123456789012", "us-east-1"),
                    accepter: side("w", &["10.9.0.0/16"], "444455556666", "eu-west-1"),
                    status: "pending-acceptance".into(),
                    inter_region: true,
                    mtu: 1500,
                },
            ],
        };
        let mut out = Vec::new();
        print_vpc_peering_connections(&mut out, &report).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
vpc peering connection a-b: active; inter-region no, MTU 9001
  SIDE       VPC  CIDRS                      OWNER         REGION
  requester  a    10.1.0.0/16                123456789012  us-east-1
  accepter   b    10.2.0.0/16, 10.20.0.0/16  123456789012  us-east-1

vpc peering connection a-w: pending-acceptance; inter-region yes, MTU 1500
  SIDE       VPC  CIDRS        OWNER         REGION
  requester  a    10.1.0.0/16  123456789012  us-east-1
  accepter   w    10.9.0.0/16  444455556666  eu-west-1
"
        );
        let mut out = Vec::new();
        print_vpc_peering_connections(
            &mut out,
            &VpcPeeringConnectionsReport {
                vpc_peering_connections: vec![],
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "no VPC peering connections\n"
        );
    }

    #[test]
    fn transit_gateways_print_options_metrics_and_attachments() {
        let attachment = |name: &str, kind: &str| vpc_api::TgwAttachmentReport {
            name: name.into(),
            kind: kind.into(),
            vpc: None,
            peer: None,
            peering_role: None,
            subnets: vec![],
            appliance_mode: false,
            status: "available".into(),
            association: None,
            propagations: vec![],
        };
        let subnet = |subnet: &str, az: &str, ip: &str| vpc_api::TgwAttachmentSubnetReport {
            subnet: subnet.into(),
            az: az.into(),
            private_ip: ip.into(),
        };
        let report = TransitGatewaysReport {
            transit_gateways: vec![vpc_api::TransitGatewayReport {
                name: "east".into(),
                owner_id: "123456789012".into(),
                region: "us-east-1".into(),
                amazon_side_asn: 64512,
                default_route_table_association: true,
                default_route_table_propagation: true,
                auto_accept_shared_attachments: false,
                multicast_support: true,
                default_route_table: Some("east-default".into()),
                shared_with: vec!["444455556666".into()],
                metrics: vpc_api::TgwMetricsReport {
                    bytes_in: 840,
                    packets_in: 10,
                    packet_drop_count_no_route: 3,
                    ..Default::default()
                },
                attachments: vec![
                    vpc_api::TgwAttachmentReport {
                        vpc: Some("a".into()),
                        subnets: vec![
                            subnet("a-1", "a", "10.1.1.4"),
                            subnet("a-2", "b", "10.1.2.4"),
                        ],
                        appliance_mode: true,
                        association: Some("east-default".into()),
                        propagations: vec!["east-default".into()],
                        ..attachment("att-a", "vpc")
                    },
                    vpc_api::TgwAttachmentReport {
                        peer: Some("west".into()),
                        peering_role: Some("requester".into()),
                        status: "pending-acceptance".into(),
                        ..attachment("east-west", "peering")
                    },
                ],
            }],
        };
        let mut out = Vec::new();
        print_transit_gateways(&mut out, &report).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
transit gateway east (owner 123456789012, region us-east-1, ASN 64512); default route table: east-default
  options: default association enable, default propagation enable, auto-accept shared attachments disable, multicast enable
  shared with: 444455556666
  METRIC                    VALUE
  BytesIn                   840
  BytesOut                  0
  PacketsIn                 10
  PacketsOut                0
  PacketDropCountBlackhole  0
  PacketDropCountNoRoute    3
  ATTACHMENT  KIND     RESOURCE         SUBNETS                     APPLIANCE MODE  STATUS              ROUTE TABLE   PROPAGATES INTO
  att-a       vpc      a                a-1 10.1.1.4, a-2 10.1.2.4  enable          available           east-default  east-default
  east-west   peering  west (accepter)  -                           -               pending-acceptance  -             -
"
        );
    }

    #[test]
    fn multicast_domains_print_associations_and_groups() {
        let report = MulticastDomainsReport {
            multicast_domains: vec![vpc_api::MulticastDomainReport {
                name: "mcast".into(),
                transit_gateway: "east".into(),
                igmpv2: true,
                associations: vec![
                    vpc_api::MulticastAssociationReport {
                        attachment: "att-a".into(),
                        subnet: "a-1".into(),
                    },
                    vpc_api::MulticastAssociationReport {
                        attachment: "att-a".into(),
                        subnet: "a-2".into(),
                    },
                ],
                groups: vec![
                    vpc_api::MulticastGroupReport {
                        group: "239.1.1.1".into(),
                        members: vec!["recv/eth0".into(), "recv2/eth0".into()],
                        sources: vec!["sender/eth0".into()],
                        joined: vec!["tv/eth0".into()],
                    },
                    vpc_api::MulticastGroupReport {
                        group: "239.1.1.2".into(),
                        members: vec!["recv/eth0".into()],
                        sources: vec![],
                        joined: vec![],
                    },
                ],
            }],
        };
        let mut out = Vec::new();
        print_multicast_domains(&mut out, &report).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
multicast domain mcast (transit gateway east); IGMPv2 enable
  ATTACHMENT  SUBNET
  att-a       a-1
  att-a       a-2
  GROUP      MEMBERS                JOINED (IGMP)  SOURCES
  239.1.1.1  recv/eth0, recv2/eth0  tv/eth0        sender/eth0
  239.1.1.2  recv/eth0              none           none
"
        );
    }

    #[test]
    fn an_absent_daemon_is_a_connect_error() {
        let mut out = Vec::new();
        let r = run(
            ["vpcctl", "--socket", "/nonexistent/vpcd.sock", "status"],
            &mut out,
        );
        assert!(matches!(r, Err(CtlError::Connect { .. })), "{r:?}");
        assert!(matches!(
            run(["vpcctl", "frobnicate"], &mut out),
            Err(CtlError::Usage(_))
        ));
    }
}
