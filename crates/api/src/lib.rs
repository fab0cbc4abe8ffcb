//! The control protocol between `vpcd` and `vpcctl`: one JSON request per line on the
//! daemon's Unix socket, one JSON response per line back. Requests are bounded
//! ([`MAX_REQUEST_LEN`]); anything that does not decode gets [`Response::Error`] and the
//! daemon stays up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod dns;
pub use dns::*;
mod endpoints;
mod vpn;

pub use endpoints::*;
pub use vpn::*;

/// The socket `vpcd run` listens on unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/run/vpcd/vpcd.sock";

/// The longest request line the daemon reads, newline included.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;

/// A request. (Variants are structs, even without fields, because serde rejects unknown
/// keys only in struct variants of an internally tagged enum.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Instances, ENIs and their state.
    Status {},
    /// Route tables, VPC and transit gateway, with each route's state.
    Routes {},
    /// Per-ENI and per-drop-reason counters.
    Counters {},
    /// The connections each ENI tracks.
    Flows {
        /// Only this instance's ENIs (`web`), or one ENI (`web/eth1`).
        #[serde(default)]
        instance: Option<String>,
    },
    /// Walk a probe through the live configuration: why can X reach Y, or not.
    Trace {
        /// The sending instance (its eth0) or ENI (`instance/ethN`).
        from: String,
        /// The destination IPv4 address.
        to: String,
        /// `tcp`, `udp` or `icmp`.
        proto: String,
        /// Destination port (required for tcp and udp).
        #[serde(default)]
        port: Option<u16>,
        /// The probe's source address, for a VPN gateway's port (a site's address);
        /// others send from their own.
        #[serde(default)]
        source: Option<String>,
    },
    /// NAT gateways: state, addresses, CloudWatch metrics (and translations).
    NatGateways {
        /// Only this NAT gateway.
        #[serde(default)]
        name: Option<String>,
        /// Also list the translations.
        #[serde(default)]
        mappings: bool,
    },
    /// Elastic IPs, public IPs of ENIs, internet gateways and internet hosts.
    Addresses {},
    /// Tags (the EC2 API's, kept in the configuration's `[tags]`), of every resource
    /// or of one resource ID.
    Tags {
        /// Only this resource ID.
        #[serde(default)]
        resource_id: Option<String>,
    },
    /// Apply a topology file over the running configuration (`vpcctl apply FILE`): the
    /// difference, at once; with `dry_run`, only the plan. The daemon reads the file
    /// (`path` is absolute).
    Apply {
        /// The file.
        path: String,
        /// Only say what would change.
        #[serde(default)]
        dry_run: bool,
    },
    /// DHCP option sets and the VPCs' sets (`describe-dhcp-options`).
    DhcpOptions {},
    /// Private hosted zones and their record sets (`list-hosted-zones`).
    HostedZones {},
    /// Create a DHCP option set (`CreateDhcpOptions`); at least one option.
    CreateDhcpOptions {
        /// Its name.
        name: String,
        /// `domain-name`.
        #[serde(default)]
        domain_name: Option<String>,
        /// `domain-name-servers`: addresses or `AmazonProvidedDNS`.
        #[serde(default)]
        domain_name_servers: Vec<String>,
        /// `ntp-servers`.
        #[serde(default)]
        ntp_servers: Vec<String>,
        /// `netbios-name-servers`.
        #[serde(default)]
        netbios_name_servers: Vec<String>,
        /// `netbios-node-type`.
        #[serde(default)]
        netbios_node_type: Option<u8>,
    },
    /// Associate a DHCP option set with a VPC (`AssociateDhcpOptions`); `default`: no
    /// set (AWS's defaults).
    AssociateDhcpOptions {
        /// The set's name, or `default`.
        name: String,
        /// The VPC.
        vpc: String,
    },
    /// Delete a DHCP option set no VPC uses (`DeleteDhcpOptions`).
    DeleteDhcpOptions {
        /// Its name.
        name: String,
    },
    /// Gateway VPC endpoints, with their metrics.
    VpcEndpoints {},
    /// AWS-managed prefix lists.
    PrefixLists {},
    /// Create a gateway VPC endpoint (`CreateVpcEndpoint`).
    CreateVpcEndpoint {
        /// Its name.
        name: String,
        /// The VPC's name.
        vpc: String,
        /// `com.amazonaws.<region>.<service>`.
        service_name: String,
        /// The route tables (names) that route the service's prefix list to it.
        #[serde(default)]
        route_tables: Vec<String>,
    },
    /// Add and remove an endpoint's route tables (`ModifyVpcEndpoint`).
    ModifyVpcEndpoint {
        /// Its name.
        name: String,
        /// Route tables to add.
        #[serde(default)]
        add_route_tables: Vec<String>,
        /// Route tables to remove.
        #[serde(default)]
        remove_route_tables: Vec<String>,
    },
    /// Delete gateway VPC endpoints with their routes (`DeleteVpcEndpoints`).
    DeleteVpcEndpoints {
        /// Their names.
        names: Vec<String>,
    },
    /// Virtual private gateways.
    VpnGateways {},
    /// Customer gateways.
    CustomerGateways {},
    /// VPN connections and their tunnels' status.
    VpnConnections {},
    /// The customer side's configuration of a VPN connection, or of every connection
    /// of a customer gateway (`name` is either), for charon (`strongswan`), BIRD
    /// (`bird`) or FRR (`frr`), with paths under `dir`.
    VpnConfig {
        /// A VPN connection or a customer gateway.
        name: String,
        /// `strongswan`, `bird` or `frr`.
        format: String,
        /// The absolute directory the files will be in.
        dir: String,
    },
    /// Create a detached virtual private gateway (`CreateVpnGateway`).
    CreateVpnGateway {
        /// Its name.
        name: String,
        /// Its Amazon side ASN (default 64512).
        #[serde(default)]
        amazon_side_asn: Option<u32>,
        /// Its availability zone (kept, shown).
        #[serde(default)]
        availability_zone: Option<String>,
    },
    /// Attach a VPN gateway to a VPC (`AttachVpnGateway`).
    AttachVpnGateway {
        /// Its name.
        name: String,
        /// The VPC's name.
        vpc: String,
    },
    /// Detach a VPN gateway from its VPC (`DetachVpnGateway`): routes to it turn
    /// `blackhole`.
    DetachVpnGateway {
        /// Its name.
        name: String,
        /// The VPC's name.
        vpc: String,
    },
    /// Delete a detached VPN gateway no route names (`DeleteVpnGateway`).
    DeleteVpnGateway {
        /// Its name.
        name: String,
    },
    /// Create a customer gateway (`CreateCustomerGateway`).
    CreateCustomerGateway {
        /// Its name.
        name: String,
        /// The device's public address.
        ip_address: String,
        /// Its BGP ASN (default 65000).
        #[serde(default)]
        bgp_asn: Option<u32>,
        /// The device's name.
        #[serde(default)]
        device_name: Option<String>,
    },
    /// Delete a customer gateway (`DeleteCustomerGateway`).
    DeleteCustomerGateway {
        /// Its name.
        name: String,
    },
    /// Create a VPN connection between a customer gateway and a VPN gateway
    /// (`CreateVpnConnection`), with BGP unless `static_routes_only`.
    CreateVpnConnection {
        /// Its name.
        name: String,
        /// The customer gateway's name.
        customer_gateway: String,
        /// The VPN gateway's name.
        vpn_gateway: String,
        /// Static routing instead of BGP.
        #[serde(default)]
        static_routes_only: bool,
        /// The tunnels' inside CIDRs, tunnel 1 first (missing ones: vpcd's choice).
        #[serde(default)]
        tunnel_inside_cidrs: Vec<String>,
        /// The tunnels' pre-shared keys, tunnel 1 first (missing ones: vpcd's choice).
        #[serde(default)]
        pre_shared_keys: Vec<String>,
    },
    /// Delete a VPN connection (`DeleteVpnConnection`).
    DeleteVpnConnection {
        /// Its name.
        name: String,
    },
    /// Add a static route to a VPN connection with static routing
    /// (`CreateVpnConnectionRoute`).
    CreateVpnConnectionRoute {
        /// The connection's name.
        name: String,
        /// The route's destination (a CIDR block).
        destination: String,
    },
    /// Remove a static route from a VPN connection (`DeleteVpnConnectionRoute`).
    DeleteVpnConnectionRoute {
        /// The connection's name.
        name: String,
        /// The route's destination (a CIDR block).
        destination: String,
    },
    /// Make a route table propagate a VPN gateway's routes
    /// (`EnableVgwRoutePropagation`).
    EnableVgwRoutePropagation {
        /// The route table's name.
        route_table: String,
        /// The VPN gateway's name.
        gateway: String,
    },
    /// Stop a route table propagating a VPN gateway's routes
    /// (`DisableVgwRoutePropagation`).
    DisableVgwRoutePropagation {
        /// The route table's name.
        route_table: String,
        /// The VPN gateway's name.
        gateway: String,
    },
    /// Delete a NAT gateway (`DeleteNatGateway`): routes to it turn `blackhole`.
    DeleteNatGateway {
        /// Its name.
        name: String,
    },
    /// Detach an internet gateway from its VPC (`DetachInternetGateway`).
    DetachInternetGateway {
        /// Its name.
        name: String,
    },
    /// Attach an internet gateway to a VPC (`AttachInternetGateway`).
    AttachInternetGateway {
        /// Its name.
        name: String,
        /// The VPC's name.
        vpc: String,
    },
    /// Allocate an Elastic IP (`AllocateAddress`).
    AllocateAddress {
        /// The public IPv4 address.
        address: String,
    },
    /// Release an Elastic IP (`ReleaseAddress`).
    ReleaseAddress {
        /// The public IPv4 address.
        address: String,
    },
    /// Associate an Elastic IP with a network interface (`AssociateAddress`).
    AssociateAddress {
        /// The Elastic IP.
        address: String,
        /// The instance (its eth0) or ENI (`instance/ethN`).
        instance: String,
    },
    /// Remove an Elastic IP's association (`DisassociateAddress`).
    DisassociateAddress {
        /// The Elastic IP.
        address: String,
    },
    /// Associate a route table with an internet gateway (`AssociateRouteTable
    /// --gateway-id`): it becomes the gateway's route table for inbound traffic.
    AssociateRouteTable {
        /// The route table.
        table: String,
        /// The internet gateway.
        gateway: String,
    },
    /// Remove a route table's association with an internet gateway
    /// (`DisassociateRouteTable`).
    DisassociateRouteTable {
        /// The route table.
        table: String,
        /// The internet gateway.
        gateway: String,
    },
    /// Replace the target of a local route with a network interface, or restore it
    /// (`ReplaceRoute` on a local route, `--network-interface-id` or `--local-target`).
    ReplaceRoute {
        /// The route table.
        table: String,
        /// The local route's destination: one of the VPC's CIDR blocks.
        destination: String,
        /// The new target (an instance for its eth0, or `instance/ethN`); `None`
        /// restores `local`.
        #[serde(default)]
        network_interface: Option<String>,
    },
    /// VPC peering connections: both sides (VPC, blocks, owner, region), status, MTU.
    VpcPeeringConnections {},
    /// Transit gateways: options, default route table, CloudWatch metrics and
    /// attachments.
    TransitGateways {},
    /// Transit gateway multicast domains: associations, groups, members and sources.
    MulticastDomains {},
    /// Request a VPC peering connection (`CreateVpcPeeringConnection`): `active` when
    /// both VPCs have one owner, else `pending-acceptance`.
    CreateVpcPeeringConnection {
        /// The new connection's name (vpcd's ID for it).
        name: String,
        /// The requester VPC (`VpcId`).
        vpc: String,
        /// The accepter VPC (`PeerVpcId`).
        peer_vpc: String,
    },
    /// Accept a VPC peering connection that is `pending-acceptance`
    /// (`AcceptVpcPeeringConnection`).
    AcceptVpcPeeringConnection {
        /// Its name.
        name: String,
    },
    /// Delete (or reject) a VPC peering connection (`DeleteVpcPeeringConnection`):
    /// routes to it turn `blackhole`.
    DeleteVpcPeeringConnection {
        /// Its name.
        name: String,
    },
    /// Make a VPC attachment propagate its VPC's blocks into a transit gateway route
    /// table (`EnableTransitGatewayRouteTablePropagation`).
    EnableTransitGatewayRouteTablePropagation {
        /// The transit gateway route table.
        table: String,
        /// The attachment.
        attachment: String,
    },
    /// Stop an attachment propagating into a transit gateway route table
    /// (`DisableTransitGatewayRouteTablePropagation`).
    DisableTransitGatewayRouteTablePropagation {
        /// The transit gateway route table.
        table: String,
        /// The attachment.
        attachment: String,
    },
    /// Associate an attachment with a transit gateway route table
    /// (`AssociateTransitGatewayRouteTable`): the table routes what enters the gateway
    /// through the attachment.
    AssociateTransitGatewayRouteTable {
        /// The transit gateway route table.
        table: String,
        /// The attachment.
        attachment: String,
    },
    /// Remove an attachment's association with a transit gateway route table
    /// (`DisassociateTransitGatewayRouteTable`).
    DisassociateTransitGatewayRouteTable {
        /// The transit gateway route table.
        table: String,
        /// The attachment.
        attachment: String,
    },
    /// Add a static route to a transit gateway route table
    /// (`CreateTransitGatewayRoute`): to an attachment, or a blackhole route. Exactly
    /// one of `attachment` and `blackhole` must be given.
    CreateTransitGatewayRoute {
        /// The transit gateway route table.
        table: String,
        /// The destination CIDR block (canonical).
        destination: String,
        /// The target attachment (`TransitGatewayAttachmentId`).
        #[serde(default)]
        attachment: Option<String>,
        /// Drop what matches (`Blackhole`).
        #[serde(default)]
        blackhole: bool,
    },
    /// Delete a static route of a transit gateway route table
    /// (`DeleteTransitGatewayRoute`).
    DeleteTransitGatewayRoute {
        /// The transit gateway route table.
        table: String,
        /// The static route's destination CIDR block.
        destination: String,
    },
    /// Accept a transit gateway attachment, VPC or peering, that is
    /// `pending-acceptance` (`AcceptTransitGatewayVpcAttachment`,
    /// `AcceptTransitGatewayPeeringAttachment`).
    AcceptTransitGatewayAttachment {
        /// The attachment's name.
        name: String,
    },
    /// Delete a transit gateway attachment, VPC or peering
    /// (`DeleteTransitGatewayVpcAttachment`, `DeleteTransitGatewayPeeringAttachment`):
    /// routes to it turn `blackhole`.
    DeleteTransitGatewayAttachment {
        /// The attachment's name.
        name: String,
    },
    /// Register network interfaces as members of a multicast group
    /// (`RegisterTransitGatewayMulticastGroupMembers`).
    RegisterTransitGatewayMulticastGroupMembers {
        /// The multicast domain.
        domain: String,
        /// The group's IPv4 address.
        group: String,
        /// The interfaces (an instance for its eth0, or `instance/ethN`), at least one.
        network_interfaces: Vec<String>,
    },
    /// Deregister members of a multicast group
    /// (`DeregisterTransitGatewayMulticastGroupMembers`).
    DeregisterTransitGatewayMulticastGroupMembers {
        /// The multicast domain.
        domain: String,
        /// The group's IPv4 address.
        group: String,
        /// The interfaces, at least one.
        network_interfaces: Vec<String>,
    },
    /// Register network interfaces as sources of a multicast group
    /// (`RegisterTransitGatewayMulticastGroupSources`).
    RegisterTransitGatewayMulticastGroupSources {
        /// The multicast domain.
        domain: String,
        /// The group's IPv4 address.
        group: String,
        /// The interfaces, at least one.
        network_interfaces: Vec<String>,
    },
    /// Deregister sources of a multicast group
    /// (`DeregisterTransitGatewayMulticastGroupSources`).
    DeregisterTransitGatewayMulticastGroupSources {
        /// The multicast domain.
        domain: String,
        /// The group's IPv4 address.
        group: String,
        /// The interfaces, at least one.
        network_interfaces: Vec<String>,
    },
    /// Change an instance's metadata options (`ModifyInstanceMetadataOptions`); each
    /// option left out keeps its value.
    ModifyInstanceMetadataOptions {
        /// The instance's name.
        instance: String,
        /// `optional` or `required`.
        #[serde(default)]
        http_tokens: Option<String>,
        /// 1 to 64.
        #[serde(default)]
        http_put_response_hop_limit: Option<i64>,
        /// `enabled` or `disabled`.
        #[serde(default)]
        http_endpoint: Option<String>,
    },
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "kebab-case")]
pub enum Response {
    /// Answer to [`Request::Status`].
    Status(Status),
    /// Answer to [`Request::Routes`].
    Routes(Routes),
    /// Answer to [`Request::Counters`].
    Counters(CountersReport),
    /// Answer to [`Request::Flows`].
    Flows(FlowsReport),
    /// Answer to [`Request::Trace`].
    Trace(TraceReport),
    /// Answer to [`Request::NatGateways`].
    NatGateways(NatGatewaysReport),
    /// Answer to [`Request::Addresses`].
    Addresses(AddressesReport),
    /// Answer to [`Request::Tags`].
    Tags(TagsReport),
    /// Answer to [`Request::VpcPeeringConnections`].
    VpcPeeringConnections(VpcPeeringConnectionsReport),
    /// Answer to [`Request::TransitGateways`].
    TransitGateways(TransitGatewaysReport),
    /// Answer to [`Request::MulticastDomains`].
    MulticastDomains(MulticastDomainsReport),
    /// Answer to [`Request::DhcpOptions`].
    DhcpOptions(DhcpOptionsReport),
    /// Answer to [`Request::HostedZones`].
    HostedZones(HostedZonesReport),
    /// Answer to [`Request::Apply`].
    Applied(ApplyReport),
    /// Answer to [`Request::VpcEndpoints`].
    VpcEndpoints(VpcEndpointsReport),
    /// Answer to [`Request::PrefixLists`].
    PrefixLists(PrefixListsReport),
    /// Answer to [`Request::VpnGateways`].
    VpnGateways(VpnGatewaysReport),
    /// Answer to [`Request::CustomerGateways`].
    CustomerGateways(CustomerGatewaysReport),
    /// Answer to [`Request::VpnConnections`].
    VpnConnections(VpnConnectionsReport),
    /// Answer to [`Request::VpnConfig`].
    VpnConfig(VpnConfigReport),
    /// A change was made (answer to the requests that change the configuration).
    Done {
        /// What was done, in words.
        message: String,
    },
    /// The request could not be served.
    Error {
        /// Why.
        message: String,
    },
}

/// What applying a topology file changed (or, in a dry run, would change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// The file.
    pub path: String,
    /// The plan: one line per resource added (`+ subnet private-c`), changed (`~
    /// security_group web-sg`) or removed (`- instance db`); empty if the file
    /// describes what is running.
    pub changes: Vec<String>,
    /// Whether the changes were applied (false for a dry run and for no changes).
    pub applied: bool,
    /// What else to know: a change that takes effect only at the next start.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The daemon and its instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The daemon's process id.
    pub pid: u32,
    /// Seconds since the daemon became ready.
    pub uptime_secs: u64,
    /// Where the topology came from (a file name or the embedded demo).
    pub config: String,
    /// VPCs with their CIDRs.
    pub vpcs: Vec<VpcStatus>,
    /// Instances in configuration order.
    pub instances: Vec<InstanceStatus>,
    /// Hosts of the emulated internet in configuration order.
    pub internet_hosts: Vec<HostStatus>,
}

/// A host of the emulated internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStatus {
    /// Name in the configuration.
    pub name: String,
    /// Its network namespace.
    pub namespace: String,
    /// Its device (`eth0`).
    pub device: String,
    /// Its public address.
    pub address: String,
    /// `up`, or `down` with the reason.
    pub link: String,
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcStatus {
    /// Name.
    pub name: String,
    /// Primary CIDR first.
    pub cidrs: Vec<String>,
    /// The account that owns it (12 digits).
    #[serde(default)]
    pub owner_id: String,
    /// Its region.
    #[serde(default)]
    pub region: String,
    /// Subnets: name, CIDR, availability zone, route table.
    pub subnets: Vec<SubnetStatus>,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetStatus {
    /// Name.
    pub name: String,
    /// CIDR.
    pub cidr: String,
    /// Availability zone.
    pub az: String,
    /// The route table it uses.
    pub route_table: String,
}

/// An instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// Name in the configuration.
    pub name: String,
    /// Its network namespace (`ip netns exec <namespace> ...`).
    pub namespace: String,
    /// Its network interfaces.
    pub enis: Vec<EniStatus>,
    /// How the instance metadata service answers it (absent from an older daemon's
    /// answer: AWS's defaults).
    #[serde(default)]
    pub metadata_options: MetadataOptionsStatus,
}

/// An instance's metadata options, by AWS's names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataOptionsStatus {
    /// `optional` or `required`.
    pub http_tokens: String,
    /// 1 to 64.
    pub http_put_response_hop_limit: u8,
    /// `enabled` or `disabled`.
    pub http_endpoint: String,
}

impl Default for MetadataOptionsStatus {
    /// AWS's defaults: `optional`, 1, `enabled`.
    fn default() -> Self {
        MetadataOptionsStatus {
            http_tokens: "optional".to_owned(),
            http_put_response_hop_limit: 1,
            http_endpoint: "enabled".to_owned(),
        }
    }
}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EniStatus {
    /// `instance/ethN`.
    pub name: String,
    /// The device inside the namespace (`ethN`).
    pub device: String,
    /// Subnet name.
    pub subnet: String,
    /// Private IPv4 address.
    pub private_ip: String,
    /// Source/destination check.
    pub source_dest_check: bool,
    /// `up`, or `down` with the reason.
    pub link: String,
}

/// Every route table, VPC and transit gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routes {
    /// Tables in configuration order (implicit main tables last).
    pub tables: Vec<RouteTableReport>,
    /// Transit gateway route tables in configuration order (implicit default tables
    /// last).
    #[serde(default)]
    pub transit_gateway_route_tables: Vec<TgwRouteTableReport>,
}

/// One route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTableReport {
    /// Name.
    pub name: String,
    /// VPC name.
    pub vpc: String,
    /// Whether it is the VPC's main table.
    pub main: bool,
    /// Subnets using it (explicitly associated, or through main).
    pub subnets: Vec<String>,
    /// Internet gateways it is associated with (edge associations: a gateway route
    /// table).
    #[serde(default)]
    pub gateways: Vec<String>,
    /// VPN gateways whose routes it propagates (`EnableVgwRoutePropagation`).
    #[serde(default)]
    pub propagating_vgws: Vec<String>,
    /// Routes by prefix.
    pub routes: Vec<RouteReport>,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteReport {
    /// Destination CIDR.
    pub destination: String,
    /// `local`, the target ENI as `instance/ethN`, or a gateway's name.
    pub target: String,
    /// `active` or `blackhole`.
    pub state: String,
    /// AWS's route origin: `CreateRouteTable` (the local route, whose target may have
    /// been replaced) or `CreateRoute`.
    #[serde(default)]
    pub origin: String,
}

/// One transit gateway route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TgwRouteTableReport {
    /// Name.
    pub name: String,
    /// Its transit gateway.
    pub transit_gateway: String,
    /// Whether it is its gateway's default route table.
    pub default: bool,
    /// The attachments associated with it (whose incoming traffic it routes).
    pub associations: Vec<String>,
    /// The attachments propagating into it.
    pub propagations: Vec<String>,
    /// Its effective routes (AWS's `SearchTransitGatewayRoutes`): by destination, then
    /// type.
    pub routes: Vec<TgwRouteReport>,
}

/// One effective route of a transit gateway route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TgwRouteReport {
    /// Destination CIDR.
    pub destination: String,
    /// The attachment's name, or `blackhole`.
    pub target: String,
    /// `static` or `propagated`.
    pub route_type: String,
    /// `active` or `blackhole`.
    pub state: String,
}

/// Counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersReport {
    /// Per ENI.
    pub enis: Vec<EniCountersReport>,
    /// Per host of the emulated internet (named by the host's name).
    pub hosts: Vec<EniCountersReport>,
    /// The services port (named `services`): vpcd's DNS resolver and metadata service.
    pub services: EniCountersReport,
    /// Every drop reason with its description and the total over all ports.
    pub drops: Vec<DropCount>,
    /// The VPC router's events (echo replies, ICMP errors sent, ...).
    pub router: BTreeMap<String, u64>,
}

/// One port's counters: an ENI's or an internet host's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EniCountersReport {
    /// `instance/ethN`, or the internet host's name.
    pub name: String,
    /// Packets read from the instance (or host).
    pub rx_packets: u64,
    /// Bytes read from the instance.
    pub rx_bytes: u64,
    /// Packets written to the instance.
    pub tx_packets: u64,
    /// Bytes written to the instance.
    pub tx_bytes: u64,
    /// Writes to the device that failed (queue full, device gone).
    pub tx_errors: u64,
    /// Drops of packets from this port, by reason (only reasons with a count).
    pub drops: BTreeMap<String, u64>,
}

/// One drop reason's total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropCount {
    /// The reason's counter name.
    pub reason: String,
    /// What it means.
    pub description: String,
    /// Packets dropped for it, over all ports.
    pub count: u64,
}

/// Tracked connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowsReport {
    /// Per ENI asked for, in configuration order.
    pub enis: Vec<EniFlows>,
}

/// One ENI's connection table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EniFlows {
    /// `instance/ethN`.
    pub name: String,
    /// Flows tracked now.
    pub tracked: u64,
    /// Flows inserted since start.
    pub inserted: u64,
    /// Flows expired (idle past their timeout) since start.
    pub expired: u64,
    /// The flows.
    pub flows: Vec<FlowReport>,
}

/// One tracked flow, as its first packet went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowReport {
    /// `tcp`, `udp`, `icmp` or a protocol number.
    pub proto: String,
    /// Source address (and port).
    pub src: String,
    /// Destination address (and port).
    pub dst: String,
    /// Connection state (`established`, `syn-sent`, `replied`, ...).
    pub state: String,
    /// Seconds left before it expires if idle.
    pub expires_in_secs: u64,
    /// Packets in the direction of the first packet.
    pub packets_original: u64,
    /// Packets in the reply direction.
    pub packets_reply: u64,
}

/// A probe's walk through the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceReport {
    /// The probe, e.g. `web/eth0 10.0.1.10:49152 -> 10.0.12.10:5432 tcp SYN`.
    pub probe: String,
    /// Each stage's decision, in order.
    pub steps: Vec<TraceStep>,
    /// `FORWARD to db/eth0`, `REPLY from the VPC router`, or `DROP <reason>`.
    pub verdict: String,
    /// What decided a drop (the rule, or the reason's description); empty otherwise.
    pub because: String,
}

/// One stage of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// The stage, e.g. `nacl inbound`.
    pub stage: String,
    /// Its decision in words, naming the route, rule or table.
    pub decision: String,
}

/// NAT gateways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGatewaysReport {
    /// In configuration order (deleted ones too).
    pub nat_gateways: Vec<NatGatewayReport>,
}

/// One NAT gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGatewayReport {
    /// Name.
    pub name: String,
    /// Its subnet.
    pub subnet: String,
    /// Its subnet's availability zone.
    pub az: String,
    /// `public` or `private`.
    pub connectivity: String,
    /// `available` or `deleted`.
    pub state: String,
    /// The source ports it hands out, `FROM-TO`.
    pub source_ports: String,
    /// Its addresses, the primary first.
    pub addresses: Vec<NatAddressReport>,
    /// Its CloudWatch metrics, totals since the daemon started.
    pub metrics: NatMetricsReport,
    /// Its translations, if asked for.
    #[serde(default)]
    pub mappings: Option<Vec<NatMappingReport>>,
}

/// One address of a NAT gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatAddressReport {
    /// The private address in its subnet.
    pub private_ip: String,
    /// The Elastic IP paired with it (public NAT gateways).
    pub elastic_ip: Option<String>,
}

/// A NAT gateway's metrics under AWS's CloudWatch names (`AWS/NATGateway`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NatMetricsReport {
    /// TCP connections translated now.
    pub active_connection_count: u64,
    /// New translations attempted.
    pub connection_attempt_count: u64,
    /// TCP connections that completed the handshake.
    pub connection_established_count: u64,
    /// New connections refused for want of a source port.
    pub error_port_allocation: u64,
    /// Translations removed after the idle timeout.
    pub idle_timeout_count: u64,
    /// Packets the NAT gateway dropped.
    pub packets_drop_count: u64,
    /// Bytes from the inside.
    pub bytes_in_from_source: u64,
    /// Bytes sent on to the destination.
    pub bytes_out_to_destination: u64,
    /// Bytes from the destination side.
    pub bytes_in_from_destination: u64,
    /// Bytes sent back to the inside.
    pub bytes_out_to_source: u64,
    /// Packets from the inside.
    pub packets_in_from_source: u64,
    /// Packets sent on to the destination.
    pub packets_out_to_destination: u64,
    /// Packets from the destination side.
    pub packets_in_from_destination: u64,
    /// Packets sent back to the inside.
    pub packets_out_to_source: u64,
}

impl NatMetricsReport {
    /// Every metric with its CloudWatch name, in the order AWS's documentation lists them.
    pub fn named(&self) -> [(&'static str, u64); 14] {
        [
            ("ActiveConnectionCount", self.active_connection_count),
            ("ConnectionAttemptCount", self.connection_attempt_count),
            (
                "ConnectionEstablishedCount",
                self.connection_established_count,
            ),
            ("ErrorPortAllocation", self.error_port_allocation),
            ("IdleTimeoutCount", self.idle_timeout_count),
            ("PacketsDropCount", self.packets_drop_count),
            ("BytesInFromSource", self.bytes_in_from_source),
            ("BytesOutToDestination", self.bytes_out_to_destination),
            ("BytesInFromDestination", self.bytes_in_from_destination),
            ("BytesOutToSource", self.bytes_out_to_source),
            ("PacketsInFromSource", self.packets_in_from_source),
            ("PacketsOutToDestination", self.packets_out_to_destination),
            ("PacketsInFromDestination", self.packets_in_from_destination),
            ("PacketsOutToSource", self.packets_out_to_source),
        ]
    }
}

/// One translation of a NAT gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatMappingReport {
    /// `tcp`, `udp` or `icmp`.
    pub proto: String,
    /// The inside address and port (`10.0.2.10:43210`; ICMP: `10.0.2.10 id 7`).
    pub inside: String,
    /// The NAT gateway's address and port it is translated to.
    pub outside: String,
    /// The remote address and port.
    pub remote: String,
    /// Seconds left before the idle timeout removes it.
    pub expires_in_secs: u64,
}

/// Tags, by resource ID then key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsReport {
    /// One per tag.
    pub tags: Vec<TagReport>,
}

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagReport {
    /// The resource's EC2 ID (`vpc-...`).
    pub resource_id: String,
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// Public addresses and the internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressesReport {
    /// Every Elastic IP, in configuration (then allocation) order.
    pub elastic_ips: Vec<ElasticIpReport>,
    /// Every ENI with a public address (an Elastic IP or an auto-assigned public IP).
    pub public_ips: Vec<PublicIpReport>,
    /// Every internet gateway.
    pub internet_gateways: Vec<InternetGatewayReport>,
    /// Every host of the emulated internet.
    pub internet_hosts: Vec<InternetHostReport>,
}

/// One Elastic IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElasticIpReport {
    /// The public address.
    pub address: String,
    /// Its name.
    pub name: String,
    /// `instance/ethN`, or `nat-a address #0 (10.0.1.5)`; `None` if not associated.
    pub association: Option<String>,
}

/// The public address of one ENI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicIpReport {
    /// `instance/ethN`.
    pub eni: String,
    /// Its private address.
    pub private_ip: String,
    /// The public address the internet gateway maps it to.
    pub public_ip: String,
    /// `elastic-ip` or `auto-assigned`.
    pub kind: String,
}

/// One internet gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternetGatewayReport {
    /// Its name.
    pub name: String,
    /// The VPC it is attached to; `None` while detached.
    pub vpc: Option<String>,
}

/// One host of the emulated internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternetHostReport {
    /// Its name.
    pub name: String,
    /// Its public address.
    pub address: String,
}

/// VPC peering connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcPeeringConnectionsReport {
    /// In configuration (then creation) order, deleted ones too.
    pub vpc_peering_connections: Vec<VpcPeeringConnectionReport>,
}

/// One VPC peering connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcPeeringConnectionReport {
    /// Its name.
    pub name: String,
    /// The VPC that requested it (AWS's `RequesterVpcInfo`).
    pub requester: PeeringVpcReport,
    /// The VPC that accepts it (AWS's `AccepterVpcInfo`).
    pub accepter: PeeringVpcReport,
    /// `pending-acceptance`, `active` or `deleted`.
    pub status: String,
    /// Whether its VPCs are in different regions.
    pub inter_region: bool,
    /// Its MTU in bytes: 9001 within a region, 1500 across regions.
    pub mtu: u32,
}

/// One side of a VPC peering connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringVpcReport {
    /// The VPC's name.
    pub vpc: String,
    /// Its CIDR blocks, the primary first.
    pub cidrs: Vec<String>,
    /// The account that owns it.
    pub owner_id: String,
    /// Its region.
    pub region: String,
}

/// Transit gateways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitGatewaysReport {
    /// In configuration order.
    pub transit_gateways: Vec<TransitGatewayReport>,
}

/// One transit gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitGatewayReport {
    /// Its name.
    pub name: String,
    /// The account that owns it.
    pub owner_id: String,
    /// Its region.
    pub region: String,
    /// The ASN of its side of BGP sessions.
    pub amazon_side_asn: u32,
    /// `DefaultRouteTableAssociation`.
    pub default_route_table_association: bool,
    /// `DefaultRouteTablePropagation`.
    pub default_route_table_propagation: bool,
    /// `AutoAcceptSharedAttachments`.
    pub auto_accept_shared_attachments: bool,
    /// `MulticastSupport`.
    pub multicast_support: bool,
    /// Its default route table, if it has one.
    pub default_route_table: Option<String>,
    /// The accounts resource shares share it with.
    pub shared_with: Vec<String>,
    /// Its CloudWatch metrics, totals since the daemon started.
    pub metrics: TgwMetricsReport,
    /// Its attachments: its VPC attachments, and the peering attachments on either side
    /// of which it is, in configuration order (deleted ones too).
    pub attachments: Vec<TgwAttachmentReport>,
}

/// A transit gateway's metrics under AWS's CloudWatch names (`AWS/TransitGateway`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TgwMetricsReport {
    /// Bytes that entered it through an attachment.
    pub bytes_in: u64,
    /// Bytes it sent out through an attachment.
    pub bytes_out: u64,
    /// Packets that entered it through an attachment.
    pub packets_in: u64,
    /// Packets it sent out through an attachment.
    pub packets_out: u64,
    /// Packets dropped by a blackhole route.
    pub packet_drop_count_blackhole: u64,
    /// Packets dropped for want of a route (or of an associated route table).
    pub packet_drop_count_no_route: u64,
}

impl TgwMetricsReport {
    /// Every metric with its CloudWatch name, in the order AWS's documentation lists them.
    pub fn named(&self) -> [(&'static str, u64); 6] {
        [
            ("BytesIn", self.bytes_in),
            ("BytesOut", self.bytes_out),
            ("PacketsIn", self.packets_in),
            ("PacketsOut", self.packets_out),
            ("PacketDropCountBlackhole", self.packet_drop_count_blackhole),
            ("PacketDropCountNoRoute", self.packet_drop_count_no_route),
        ]
    }
}

/// One transit gateway attachment, as seen from one of its gateways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TgwAttachmentReport {
    /// Its name.
    pub name: String,
    /// `vpc` or `peering`.
    pub kind: String,
    /// The attached VPC (a VPC attachment).
    pub vpc: Option<String>,
    /// The transit gateway on the other side (a peering attachment).
    pub peer: Option<String>,
    /// This gateway's side of a peering attachment: `requester` or `accepter`.
    pub peering_role: Option<String>,
    /// The attachment's network interfaces, one per subnet (a VPC attachment).
    pub subnets: Vec<TgwAttachmentSubnetReport>,
    /// `ApplianceModeSupport` (a VPC attachment).
    pub appliance_mode: bool,
    /// `pending-acceptance`, `available` or `deleted`.
    pub status: String,
    /// The route table of this gateway it is associated with, if any.
    pub association: Option<String>,
    /// The route tables of this gateway it propagates into.
    pub propagations: Vec<String>,
}

/// A VPC attachment's network interface in one subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TgwAttachmentSubnetReport {
    /// The subnet.
    pub subnet: String,
    /// Its availability zone.
    pub az: String,
    /// The interface's address.
    pub private_ip: String,
}

/// Transit gateway multicast domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MulticastDomainsReport {
    /// In configuration order.
    pub multicast_domains: Vec<MulticastDomainReport>,
}

/// One multicast domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MulticastDomainReport {
    /// Its name.
    pub name: String,
    /// Its transit gateway.
    pub transit_gateway: String,
    /// `Igmpv2Support`.
    pub igmpv2: bool,
    /// Its associated subnets.
    pub associations: Vec<MulticastAssociationReport>,
    /// Its groups with registered members or sources, by address.
    pub groups: Vec<MulticastGroupReport>,
}

/// A subnet associated with a multicast domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MulticastAssociationReport {
    /// The VPC attachment the subnet belongs to.
    pub attachment: String,
    /// The subnet.
    pub subnet: String,
}

/// One multicast group of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MulticastGroupReport {
    /// The group's address.
    pub group: String,
    /// Its members (`instance/ethN`), in registration order.
    pub members: Vec<String>,
    /// Its sources (`instance/ethN`), in registration order.
    pub sources: Vec<String>,
    /// The interfaces that joined it with IGMP (a domain with IGMPv2 support), besides
    /// the registered members.
    #[serde(default)]
    pub joined: Vec<String>,
}

/// Decoding a request or response failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The line is longer than [`MAX_REQUEST_LEN`].
    #[error("request longer than {MAX_REQUEST_LEN} bytes")]
    TooLong,
    /// The line is not a request or response of this protocol.
    #[error("malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// One message as a line (JSON and a newline).
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    // Serializing these plain data types cannot fail.
    let mut line = serde_json::to_vec(msg).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Decodes a request line.
pub fn decode_request(line: &[u8]) -> Result<Request, ApiError> {
    if line.len() > MAX_REQUEST_LEN {
        return Err(ApiError::TooLong);
    }
    Ok(serde_json::from_slice(line)?)
}

/// Decodes a response line.
pub fn decode_response(line: &[u8]) -> Result<Response, ApiError> {
    Ok(serde_json::from_slice(line)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_garbage_is_an_error() {
        let trace = Request::Trace {
            from: "web".into(),
            to: "10.0.12.10".into(),
            proto: "tcp".into(),
            port: Some(5432),
            source: None,
        };
        let flows = Request::Flows {
            instance: Some("db".into()),
        };
        for r in [
            Request::Status {},
            Request::Routes {},
            Request::Counters {},
            flows,
            trace,
        ] {
            let line = encode(&r);
            assert_eq!(line.last(), Some(&b'\n'));
            assert_eq!(decode_request(&line).unwrap(), r);
        }
        assert_eq!(
            encode(&Request::Counters {}),
            b"{\"command\":\"counters\"}\n"
        );
        assert!(matches!(
            decode_request(b"{\"command\":\"reboot\"}"),
            Err(ApiError::Malformed(_))
        ));
        assert!(matches!(
            decode_request(b"\xff\xfe"),
            Err(ApiError::Malformed(_))
        ));
        assert!(matches!(
            decode_request(b"{\"command\":\"status\",\"x\":1}"),
            Err(ApiError::Malformed(_))
        ));
        assert_eq!(
            decode_request(b"{\"command\":\"flows\"}").unwrap(),
            Request::Flows { instance: None }
        );
        assert_eq!(
            decode_request(b"{\"command\":\"tags\",\"resource_id\":\"vpc-1\"}").unwrap(),
            Request::Tags {
                resource_id: Some("vpc-1".into())
            }
        );
        assert!(matches!(
            decode_request(b"{\"command\":\"trace\",\"from\":\"web\",\"to\":\"x\",\"proto\":\"tcp\",\"port\":70000}"),
            Err(ApiError::Malformed(_))
        ));
        assert!(matches!(
            decode_request(&vec![b' '; MAX_REQUEST_LEN + 1]),
            Err(ApiError::TooLong)
        ));
    }

    #[test]
    fn gateway_and_address_requests_round_trip() {
        let reads = [
            Request::NatGateways {
                name: None,
                mappings: false,
            },
            Request::NatGateways {
                name: Some("nat-a".into()),
                mappings: true,
            },
            Request::Addresses {},
        ];
        let changes = [
            Request::Apply {
                path: "/etc/vpcd/v2.toml".into(),
                dry_run: true,
            },
            Request::DeleteNatGateway {
                name: "nat-a".into(),
            },
            Request::DetachInternetGateway { name: "igw".into() },
            Request::AttachInternetGateway {
                name: "igw".into(),
                vpc: "demo".into(),
            },
            Request::AllocateAddress {
                address: "198.51.100.30".into(),
            },
            Request::ReleaseAddress {
                address: "198.51.100.30".into(),
            },
            Request::AssociateAddress {
                address: "198.51.100.30".into(),
                instance: "app/eth0".into(),
            },
            Request::DisassociateAddress {
                address: "198.51.100.30".into(),
            },
        ];
        for r in reads.iter().chain(&changes) {
            assert_eq!(decode_request(&encode(r)).unwrap(), *r);
        }
        // The wire names, as other clients would write them.
        assert_eq!(
            decode_request(b"{\"command\":\"nat-gateways\"}").unwrap(),
            Request::NatGateways {
                name: None,
                mappings: false
            }
        );
        assert_eq!(
            decode_request(
                b"{\"command\":\"associate-address\",\"address\":\"198.51.100.10\",\"instance\":\"web\"}"
            )
            .unwrap(),
            Request::AssociateAddress {
                address: "198.51.100.10".into(),
                instance: "web".into()
            }
        );
        // A missing argument or an unknown key is malformed.
        for bad in [
            &b"{\"command\":\"delete-nat-gateway\"}"[..],
            b"{\"command\":\"attach-internet-gateway\",\"name\":\"igw\"}",
            b"{\"command\":\"addresses\",\"all\":true}",
            b"{\"command\":\"release-address\",\"address\":\"x\",\"force\":true}",
        ] {
            assert!(
                matches!(decode_request(bad), Err(ApiError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn transit_gateway_route_tables_round_trip_and_older_answers_decode() {
        let routes = Routes {
            tables: vec![],
            transit_gateway_route_tables: vec![TgwRouteTableReport {
                name: "spokes-rt".into(),
                transit_gateway: "tgw".into(),
                default: false,
                associations: vec!["att-s1".into(), "att-s2".into()],
                propagations: vec!["att-shared".into()],
                routes: vec![TgwRouteReport {
                    destination: "10.10.0.0/16".into(),
                    target: "att-shared".into(),
                    route_type: "propagated".into(),
                    state: "active".into(),
                }],
            }],
        };
        let r = Response::Routes(routes);
        assert_eq!(decode_response(&encode(&r)).unwrap(), r);
        // An answer without the new fields (an older vpcd) still decodes.
        assert_eq!(
            decode_response(b"{\"response\":\"routes\",\"tables\":[]}").unwrap(),
            Response::Routes(Routes {
                tables: vec![],
                transit_gateway_route_tables: vec![]
            })
        );
        let vpc: VpcStatus =
            serde_json::from_str(r#"{"name":"demo","cidrs":["10.0.0.0/16"],"subnets":[]}"#)
                .unwrap();
        assert_eq!((vpc.owner_id.as_str(), vpc.region.as_str()), ("", ""));
    }

    #[test]
    fn peering_transit_gateway_and_multicast_views_round_trip() {
        let side = |vpc: &str, cidr: &str, owner: &str, region: &str| PeeringVpcReport {
            vpc: vpc.into(),
            cidrs: vec![cidr.into()],
            owner_id: owner.into(),
            region: region.into(),
        };
        let peering = VpcPeeringConnectionsReport {
            vpc_peering_connections: vec![VpcPeeringConnectionReport {
                name: "b-c".into(),
                requester: side("b", "10.2.0.0/16", "123456789012", "us-east-1"),
                accepter: side("c", "10.3.0.0/16", "444455556666", "eu-west-1"),
                status: "active".into(),
                inter_region: true,
                mtu: 1500,
            }],
        };
        let metrics = TgwMetricsReport {
            bytes_in: 840,
            packets_in: 10,
            packet_drop_count_no_route: 3,
            ..TgwMetricsReport::default()
        };
        let tgws = TransitGatewaysReport {
            transit_gateways: vec![TransitGatewayReport {
                name: "tgw".into(),
                owner_id: "123456789012".into(),
                region: "us-east-1".into(),
                amazon_side_asn: 64512,
                default_route_table_association: false,
                default_route_table_propagation: false,
                auto_accept_shared_attachments: false,
                multicast_support: true,
                default_route_table: None,
                shared_with: vec!["444455556666".into()],
                metrics,
                attachments: vec![
                    TgwAttachmentReport {
                        name: "att-s1".into(),
                        kind: "vpc".into(),
                        vpc: Some("spoke1".into()),
                        peer: None,
                        peering_role: None,
                        subnets: vec![TgwAttachmentSubnetReport {
                            subnet: "spoke1-1".into(),
                            az: "a".into(),
                            private_ip: "10.11.1.4".into(),
                        }],
                        appliance_mode: false,
                        status: "available".into(),
                        association: Some("spokes-rt".into()),
                        propagations: vec!["shared-rt".into()],
                    },
                    TgwAttachmentReport {
                        name: "east-west".into(),
                        kind: "peering".into(),
                        vpc: None,
                        peer: Some("tgw-west".into()),
                        peering_role: Some("requester".into()),
                        subnets: vec![],
                        appliance_mode: false,
                        status: "pending-acceptance".into(),
                        association: None,
                        propagations: vec![],
                    },
                ],
            }],
        };
        let mcast = MulticastDomainsReport {
            multicast_domains: vec![MulticastDomainReport {
                name: "mcast".into(),
                transit_gateway: "tgw".into(),
                igmpv2: true,
                associations: vec![MulticastAssociationReport {
                    attachment: "att-s1".into(),
                    subnet: "spoke1-1".into(),
                }],
                groups: vec![MulticastGroupReport {
                    group: "239.1.1.1".into(),
                    members: vec!["s1/eth0".into()],
                    sources: vec![],
                    joined: vec!["s1/eth0".into()],
                }],
            }],
        };
        for r in [
            Response::VpcPeeringConnections(peering),
            Response::TransitGateways(tgws),
            Response::MulticastDomains(mcast),
        ] {
            assert_eq!(decode_response(&encode(&r)).unwrap(), r);
        }
        // The metrics carry AWS's CloudWatch names on the wire too.
        let json = String::from_utf8(encode(&metrics)).unwrap();
        for (name, value) in metrics.named() {
            assert!(json.contains(&format!("\"{name}\":{value}")), "{json}");
        }
        for r in [
            Request::VpcPeeringConnections {},
            Request::TransitGateways {},
            Request::MulticastDomains {},
        ] {
            assert_eq!(decode_request(&encode(&r)).unwrap(), r);
        }
        assert_eq!(
            decode_request(b"{\"command\":\"vpc-peering-connections\"}").unwrap(),
            Request::VpcPeeringConnections {}
        );
        assert!(matches!(
            decode_request(b"{\"command\":\"transit-gateways\",\"name\":\"tgw\"}"),
            Err(ApiError::Malformed(_))
        ));
    }

    #[test]
    fn fabric_change_requests_round_trip() {
        let changes = [
            Request::CreateVpcPeeringConnection {
                name: "a-c".into(),
                vpc: "a".into(),
                peer_vpc: "c".into(),
            },
            Request::AcceptVpcPeeringConnection { name: "a-c".into() },
            Request::DeleteVpcPeeringConnection { name: "a-c".into() },
            Request::EnableTransitGatewayRouteTablePropagation {
                table: "spokes-rt".into(),
                attachment: "att-s1".into(),
            },
            Request::DisableTransitGatewayRouteTablePropagation {
                table: "spokes-rt".into(),
                attachment: "att-s1".into(),
            },
            Request::AssociateTransitGatewayRouteTable {
                table: "iso-rt".into(),
                attachment: "att-iso".into(),
            },
            Request::DisassociateTransitGatewayRouteTable {
                table: "iso-rt".into(),
                attachment: "att-iso".into(),
            },
            Request::CreateTransitGatewayRoute {
                table: "spokes-rt".into(),
                destination: "10.12.0.0/16".into(),
                attachment: Some("att-s2".into()),
                blackhole: false,
            },
            Request::CreateTransitGatewayRoute {
                table: "spokes-rt".into(),
                destination: "10.99.0.0/16".into(),
                attachment: None,
                blackhole: true,
            },
            Request::DeleteTransitGatewayRoute {
                table: "spokes-rt".into(),
                destination: "10.99.0.0/16".into(),
            },
            Request::AcceptTransitGatewayAttachment {
                name: "att-x".into(),
            },
            Request::DeleteTransitGatewayAttachment {
                name: "att-x".into(),
            },
            Request::RegisterTransitGatewayMulticastGroupMembers {
                domain: "mcast".into(),
                group: "239.1.1.1".into(),
                network_interfaces: vec!["recv".into(), "recv2/eth1".into()],
            },
            Request::DeregisterTransitGatewayMulticastGroupMembers {
                domain: "mcast".into(),
                group: "239.1.1.1".into(),
                network_interfaces: vec!["recv".into()],
            },
            Request::ModifyInstanceMetadataOptions {
                instance: "web".into(),
                http_tokens: Some("required".into()),
                http_put_response_hop_limit: Some(2),
                http_endpoint: None,
            },
            Request::RegisterTransitGatewayMulticastGroupSources {
                domain: "mcast".into(),
                group: "239.1.1.1".into(),
                network_interfaces: vec!["sender".into()],
            },
            Request::DeregisterTransitGatewayMulticastGroupSources {
                domain: "mcast".into(),
                group: "239.1.1.1".into(),
                network_interfaces: vec!["sender".into()],
            },
        ];
        for r in &changes {
            assert_eq!(decode_request(&encode(r)).unwrap(), *r);
        }
        // The wire names, as other clients would write them.
        assert_eq!(
            decode_request(
                b"{\"command\":\"create-vpc-peering-connection\",\"name\":\"a-c\",\"vpc\":\"a\",\"peer_vpc\":\"c\"}"
            )
            .unwrap(),
            changes[0]
        );
        assert_eq!(
            decode_request(
                b"{\"command\":\"create-transit-gateway-route\",\"table\":\"spokes-rt\",\"destination\":\"10.99.0.0/16\",\"blackhole\":true}"
            )
            .unwrap(),
            changes[8]
        );
        assert_eq!(
            decode_request(
                b"{\"command\":\"deregister-transit-gateway-multicast-group-members\",\"domain\":\"mcast\",\"group\":\"239.1.1.1\",\"network_interfaces\":[\"recv\"]}"
            )
            .unwrap(),
            changes[13]
        );
        // A missing argument or an unknown key is malformed.
        for bad in [
            &b"{\"command\":\"create-vpc-peering-connection\",\"name\":\"x\",\"vpc\":\"a\"}"[..],
            b"{\"command\":\"accept-vpc-peering-connection\"}",
            b"{\"command\":\"delete-vpc-peering-connection\",\"name\":\"x\",\"force\":true}",
            b"{\"command\":\"accept-transit-gateway-attachment\"}",
            b"{\"command\":\"delete-transit-gateway-route\",\"table\":\"t\"}",
            b"{\"command\":\"associate-transit-gateway-route-table\",\"table\":\"t\"}",
            b"{\"command\":\"register-transit-gateway-multicast-group-sources\",\"domain\":\"d\",\"group\":\"239.1.1.1\"}",
            b"{\"command\":\"register-transit-gateway-multicast-group-members\",\"domain\":\"d\",\"group\":\"239.1.1.1\",\"network_interfaces\":\"web\"}",
        ] {
            assert!(
                matches!(decode_request(bad), Err(ApiError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn responses_round_trip() {
        let metrics = NatMetricsReport {
            active_connection_count: 1,
            error_port_allocation: 3,
            bytes_out_to_source: 1500,
            ..NatMetricsReport::default()
        };
        let nat = NatGatewayReport {
            name: "nat-a".into(),
            subnet: "public-a".into(),
            az: "a".into(),
            connectivity: "public".into(),
            state: "available".into(),
            source_ports: "1024-65535".into(),
            addresses: vec![NatAddressReport {
                private_ip: "10.0.1.5".into(),
                elastic_ip: Some("198.51.100.20".into()),
            }],
            metrics,
            mappings: Some(vec![NatMappingReport {
                proto: "tcp".into(),
                inside: "10.0.2.10:40000".into(),
                outside: "10.0.1.5:1024".into(),
                remote: "203.0.113.10:80".into(),
                expires_in_secs: 349,
            }]),
        };
        let addresses = AddressesReport {
            elastic_ips: vec![
                ElasticIpReport {
                    address: "198.51.100.10".into(),
                    name: "web-eip".into(),
                    association: Some("web/eth0".into()),
                },
                ElasticIpReport {
                    address: "198.51.100.30".into(),
                    name: "eip-198-51-100-30".into(),
                    association: None,
                },
            ],
            public_ips: vec![PublicIpReport {
                eni: "web/eth0".into(),
                private_ip: "10.0.1.10".into(),
                public_ip: "198.51.100.10".into(),
                kind: "elastic-ip".into(),
            }],
            internet_gateways: vec![InternetGatewayReport {
                name: "igw".into(),
                vpc: None,
            }],
            internet_hosts: vec![InternetHostReport {
                name: "internet".into(),
                address: "203.0.113.10".into(),
            }],
        };
        for r in [
            Response::Error {
                message: "nope".into(),
            },
            Response::Done {
                message: "deleted NAT gateway nat-a".into(),
            },
            Response::NatGateways(NatGatewaysReport {
                nat_gateways: vec![nat],
            }),
            Response::Addresses(addresses),
            Response::Tags(TagsReport {
                tags: vec![TagReport {
                    resource_id: "vpc-0123456789abcdef0".into(),
                    key: "env".into(),
                    value: "dev".into(),
                }],
            }),
        ] {
            assert_eq!(decode_response(&encode(&r)).unwrap(), r);
        }
        // The metrics carry AWS's CloudWatch names on the wire too.
        let json = String::from_utf8(encode(&metrics)).unwrap();
        for (name, value) in metrics.named() {
            assert!(json.contains(&format!("\"{name}\":{value}")), "{json}");
        }
    }

    #[test]
    fn metadata_options_request_and_status() {
        assert_eq!(
            decode_request(
                b"{\"command\":\"modify-instance-metadata-options\",\"instance\":\"web\",\"http_tokens\":\"required\"}"
            )
            .unwrap(),
            Request::ModifyInstanceMetadataOptions {
                instance: "web".into(),
                http_tokens: Some("required".into()),
                http_put_response_hop_limit: None,
                http_endpoint: None,
            }
        );
        // An older daemon's instance, without the options: AWS's defaults.
        let old: InstanceStatus =
            serde_json::from_str(r#"{"name":"web","namespace":"vpcd-web","enis":[]}"#).unwrap();
        assert_eq!(
            old.metadata_options,
            MetadataOptionsStatus {
                http_tokens: "optional".into(),
                http_put_response_hop_limit: 1,
                http_endpoint: "enabled".into(),
            }
        );
    }

    #[test]
    fn vpn_connection_requests_round_trip() {
        let create = Request::CreateVpnConnection {
            name: "vpn-dc".into(),
            customer_gateway: "dc".into(),
            vpn_gateway: "vgw".into(),
            static_routes_only: true,
            tunnel_inside_cidrs: vec!["169.254.20.0/30".into()],
            pre_shared_keys: vec!["dc.key_123".into(), "dc.key_456".into()],
        };
        let route = Request::CreateVpnConnectionRoute {
            name: "vpn-dc".into(),
            destination: "172.18.0.0/16".into(),
        };
        for r in [
            create,
            route,
            Request::DeleteVpnConnectionRoute {
                name: "vpn-dc".into(),
                destination: "172.18.0.0/16".into(),
            },
            Request::DeleteVpnConnection {
                name: "vpn-dc".into(),
            },
        ] {
            assert_eq!(decode_request(&encode(&r)).unwrap(), r);
        }
        // The wire names; the options may be left out.
        assert_eq!(
            decode_request(
                b"{\"command\":\"create-vpn-connection\",\"name\":\"v\",\"customer_gateway\":\"hq\",\"vpn_gateway\":\"vgw\"}"
            )
            .unwrap(),
            Request::CreateVpnConnection {
                name: "v".into(),
                customer_gateway: "hq".into(),
                vpn_gateway: "vgw".into(),
                static_routes_only: false,
                tunnel_inside_cidrs: vec![],
                pre_shared_keys: vec![],
            }
        );
        assert_eq!(
            encode(&Request::DeleteVpnConnectionRoute {
                name: "v".into(),
                destination: "172.18.0.0/16".into(),
            }),
            b"{\"command\":\"delete-vpn-connection-route\",\"name\":\"v\",\"destination\":\"172.18.0.0/16\"}\n"
        );
        assert!(matches!(
            decode_request(b"{\"command\":\"create-vpn-connection-route\",\"name\":\"v\"}"),
            Err(ApiError::Malformed(_))
        ));
    }
}
