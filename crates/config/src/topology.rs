//! The validated topology: VPCs, subnets, route tables, instances and their network
//! interfaces (ENIs), cross-referenced by typed indices.
//!
//! A `Topology` only exists after every check in `validate` passed, so its users (the
//! dataplane, the daemon) rely on its invariants instead of re-checking: subnets lie
//! inside their VPC and do not overlap, every subnet has exactly one route table (its
//! explicit association or the VPC's main table), every route table starts with one
//! `local` route per VPC CIDR (whose target is `local`, or a network interface of the
//! VPC that replaced it), no route's destination lies in the block AWS reserves for the
//! VPC's own services ([`crate::addressing::VPC_SERVICES`]), every ENI has a unique,
//! non-reserved private IPv4 address inside its subnet. A gateway route table (one
//! associated with internet gateways, AWS's edge association) has only routes inside
//! its VPC's blocks to network interfaces, its gateways are attached to its VPC, and an
//! internet gateway has at most one gateway route table. Internet gateways, NAT
//! gateways, Elastic IPs and the hosts of the emulated internet are validated too:
//! every public address is unique and lies in a documentation range
//! ([`crate::addressing::PUBLIC_RANGES`]), a route to an internet gateway names the one
//! attached to its VPC, and a public NAT gateway has 1 to 8 Elastic IPs, each paired
//! with one of its private addresses. The sizes of the
//! dataplane's tables ([`TableLimits`]) are each within their allowed range.
//!
//! Every VPC has an owner (an account ID) and a region. The resources that join VPCs,
//! VPC peering connections and transit gateways with their attachments, route tables
//! and multicast domains, are in `fabric` (re-exported by the crate): a peering
//! connection joins two VPCs whose blocks do not overlap, a route to it is in a table
//! of one of them; a route to a transit gateway is in a table of a VPC attached to it;
//! a transit gateway attachment's interfaces have unique addresses in their subnets
//! like every other interface.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::dns::*;
use crate::fabric::*;
use crate::security::*;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl From<u32> for $name {
            fn from(i: u32) -> Self {
                $name(i)
            }
        }

        impl $name {
            /// The index into the topology's list of this kind.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

/// The index types of the topology's lists (also used by `endpoints.rs`).
pub(crate) use id;

id!(
    /// Index of a VPC in [`Topology::vpcs`].
    VpcId
);
id!(
    /// Index of a subnet in [`Topology::subnets`].
    SubnetId
);
id!(
    /// Index of a route table in [`Topology::route_tables`].
    RouteTableId
);
id!(
    /// Index of an instance in [`Topology::instances`].
    InstanceId
);
id!(
    /// Index of a network interface in [`Topology::enis`].
    EniId
);
id!(
    /// Index of a security group in [`Topology::security_groups`].
    SecurityGroupId
);
id!(
    /// Index of a network ACL in [`Topology::network_acls`].
    NetworkAclId
);
id!(
    /// Index of a flow log in [`Topology::flow_logs`].
    FlowLogId
);
id!(
    /// Index of an internet gateway in [`Topology::internet_gateways`].
    InternetGatewayId
);
id!(
    /// Index of a NAT gateway in [`Topology::nat_gateways`].
    NatGatewayId
);
id!(
    /// Index of an Elastic IP in [`Topology::elastic_ips`].
    ElasticIpId
);
id!(
    /// Index of a host of the emulated internet in [`Topology::internet_hosts`].
    HostId
);
id!(
    /// Index of a VPC peering connection in [`Topology::vpc_peering_connections`].
    VpcPeeringConnectionId
);
id!(
    /// Index of a transit gateway in [`Topology::transit_gateways`].
    TransitGatewayId
);
id!(
    /// Index of a transit gateway attachment (VPC or peering) in
    /// [`Topology::tgw_attachments`].
    TgwAttachmentId
);
id!(
    /// Index of a transit gateway route table in [`Topology::tgw_route_tables`].
    TgwRouteTableId
);
id!(
    /// Index of a transit gateway multicast domain in [`Topology::multicast_domains`].
    MulticastDomainId
);
id!(
    /// Index of a resource share (AWS RAM) in [`Topology::resource_shares`].
    ResourceShareId
);

/// A whole validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The VPCs, in file order.
    pub vpcs: Vec<Vpc>,
    /// The subnets, in file order.
    pub subnets: Vec<Subnet>,
    /// The route tables: declared ones in file order, then an implicit main table for
    /// every VPC that declared none.
    pub route_tables: Vec<RouteTable>,
    /// The instances, in file order.
    pub instances: Vec<Instance>,
    /// Every network interface of every instance, grouped by instance in order.
    pub enis: Vec<Eni>,
    /// The security groups: declared ones in file order, then an implicit `default`
    /// group for every VPC that declared none.
    pub security_groups: Vec<SecurityGroup>,
    /// The network ACLs: declared ones in file order, then an implicit `default` NACL
    /// for every VPC that declared none.
    pub network_acls: Vec<NetworkAcl>,
    /// The flow logs, in file order.
    pub flow_logs: Vec<FlowLog>,
    /// The internet gateways, in file order.
    pub internet_gateways: Vec<InternetGateway>,
    /// The NAT gateways, in file order (a deleted one stays, marked `deleted`, so that
    /// routes to it turn `blackhole`).
    pub nat_gateways: Vec<NatGateway>,
    /// The Elastic IPs, in file order.
    pub elastic_ips: Vec<ElasticIp>,
    /// The hosts of the emulated internet, in file order.
    pub internet_hosts: Vec<InternetHost>,
    /// The sizes of the dataplane's tables (`[limits]`; the defaults if absent).
    pub limits: TableLimits,
    /// The VPC peering connections, in file order (a deleted one stays, with status
    /// [`PeeringStatus::Deleted`], so that routes to it turn `blackhole`).
    pub vpc_peering_connections: Vec<VpcPeeringConnection>,
    /// The transit gateways, in file order.
    pub transit_gateways: Vec<TransitGateway>,
    /// The transit gateway attachments: the VPC attachments in file order, then the
    /// peering attachments in file order.
    pub tgw_attachments: Vec<TgwAttachment>,
    /// The transit gateway route tables: declared ones in file order, then an implicit
    /// default table for every transit gateway that needs one and declared none.
    pub tgw_route_tables: Vec<TgwRouteTable>,
    /// The transit gateway multicast domains, in file order.
    pub multicast_domains: Vec<MulticastDomain>,
    /// The resource shares (AWS RAM), in file order.
    pub resource_shares: Vec<ResourceShare>,
    /// The instances terminated through the EC2 API that it still shows, in file order.
    pub terminated_instances: Vec<TerminatedInstance>,
    /// Tags (`[tags."<id>"]`): resource ID (EC2's, like `vpc-0a1b2c3d4e5f67890`) to
    /// key to value. Each key is 1 to [`MAX_TAG_KEY_LEN`] characters and does not
    /// start with `aws:`, each value at most [`MAX_TAG_VALUE_LEN`], at most
    /// [`MAX_TAGS_PER_RESOURCE`] per resource. Whether an ID names a resource is not
    /// checked here (IDs are derived by the EC2 API, `vpc-ec2`); a resource without
    /// tags has no entry.
    pub tags: Tags,
    /// The DHCP option sets, in file order.
    pub dhcp_options: Vec<DhcpOptions>,
    /// The Route 53 private hosted zones, in file order.
    pub private_hosted_zones: Vec<PrivateHostedZone>,
    /// The emulated AWS services (`[[aws_service]]`), in file order (`endpoints.rs`).
    pub aws_services: Vec<crate::AwsService>,
    /// The gateway VPC endpoints (`[[vpc_endpoint]]`), in file order.
    pub vpc_endpoints: Vec<crate::VpcEndpoint>,
    /// The virtual private gateways (`[[vpn_gateway]]`), in file order (`vpn.rs`).
    pub vpn_gateways: Vec<crate::VpnGateway>,
    /// The customer gateways (`[[customer_gateway]]`), in file order.
    pub customer_gateways: Vec<crate::CustomerGateway>,
    /// The VPN connections (`[[vpn_connection]]`), in file order.
    pub vpn_connections: Vec<crate::VpnConnection>,
}

/// Resource ID to tag key to tag value.
pub type Tags = BTreeMap<String, BTreeMap<String, String>>;

/// The longest tag key, in characters (AWS's limit).
pub const MAX_TAG_KEY_LEN: usize = 128;
/// The longest tag value, in characters (AWS's limit).
pub const MAX_TAG_VALUE_LEN: usize = 256;
/// The most tags a resource has (AWS's limit).
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// The sizes of the dataplane's bounded tables (`[limits]`). The defaults are the
/// dataplane's own; each value is at least 1 and at most its `*_RANGE`'s upper end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableLimits {
    /// Tracked flows per network interface (its connection table); default 65,536. A
    /// new flow that finds the table full takes the place of an expired flow, or is
    /// dropped (`conntrack-full`) if none has expired; tracked flows are kept.
    pub conntrack_per_eni: usize,
    /// Translations per NAT gateway; default 262,144. A new connection that finds the
    /// table full is dropped (`nat-table-full`).
    pub nat_per_gateway: usize,
    /// Fragmented datagrams whose first fragment's verdict is remembered for their
    /// later fragments; default 4096. When the table is full the oldest is replaced.
    pub fragments: usize,
    /// Distinct records per flow log per aggregation interval; default 10,000. Past
    /// it, new flows are not logged and their interface gets a SKIPDATA record.
    pub flow_log_records: usize,
}

impl TableLimits {
    /// The allowed range of `conntrack_per_eni`.
    pub const CONNTRACK_PER_ENI_RANGE: (usize, usize) = (1, 16_777_216);
    /// The allowed range of `nat_per_gateway`.
    pub const NAT_PER_GATEWAY_RANGE: (usize, usize) = (1, 16_777_216);
    /// The allowed range of `fragments`.
    pub const FRAGMENTS_RANGE: (usize, usize) = (1, 1_048_576);
    /// The allowed range of `flow_log_records`.
    pub const FLOW_LOG_RECORDS_RANGE: (usize, usize) = (1, 1_000_000);
}

impl Default for TableLimits {
    /// The dataplane's defaults (`vpc_dataplane::Limits::default()`).
    fn default() -> Self {
        TableLimits {
            conntrack_per_eni: 65_536,
            nat_per_gateway: 262_144,
            fragments: 4096,
            flow_log_records: 10_000,
        }
    }
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    /// Unique name.
    pub name: String,
    /// The primary CIDR first, then the secondary CIDRs; /16../28 each.
    pub cidrs: Vec<Ipv4Net>,
    /// The VPC's main route table, used by subnets without an explicit association.
    pub main_route_table: RouteTableId,
    /// The VPC's `default` security group, used by ENIs that name no group.
    pub default_security_group: SecurityGroupId,
    /// The VPC's `default` network ACL, used by subnets without an association.
    pub default_network_acl: NetworkAclId,
    /// The account that owns it (`OwnerId`, 12 digits; default
    /// [`crate::DEFAULT_ACCOUNT`]).
    pub owner_id: String,
    /// Its region (default [`crate::DEFAULT_REGION`]).
    pub region: String,
    /// Whether the VPC's DNS resolver answers (`enableDnsSupport`; default true). Kept
    /// for the EC2 API; the dataplane does not use it.
    pub enable_dns_support: bool,
    /// Whether instances get DNS host names (`enableDnsHostnames`; default false).
    /// Kept for the EC2 API.
    pub enable_dns_hostnames: bool,
    /// `enableNetworkAddressUsageMetrics` (default false). Kept for the EC2 API.
    pub enable_network_address_usage_metrics: bool,
    /// Its DHCP option set (`AssociateDhcpOptions`); `None`: AWS's default set (the
    /// EC2 API shows `default`).
    pub dhcp_options: Option<DhcpOptionsId>,
}

/// A subnet of a VPC in one availability zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// Unique name.
    pub name: String,
    /// The VPC it belongs to.
    pub vpc: VpcId,
    /// Inside one of the VPC's CIDRs; /16../28.
    pub cidr: Ipv4Net,
    /// Availability zone name.
    pub az: String,
    /// The route table the subnet uses.
    pub route_table: RouteTableId,
    /// Whether `route_table` is an explicit association (false: the VPC's main table).
    pub explicit_association: bool,
    /// The network ACL the subnet uses (its association, or the VPC's default NACL).
    pub network_acl: NetworkAclId,
    /// Whether instances launched in it get a public address (`MapPublicIpOnLaunch`;
    /// default false). Kept for the EC2 API.
    pub map_public_ip_on_launch: bool,
}

/// A route table of a VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    /// Unique name.
    pub name: String,
    /// The VPC it belongs to.
    pub vpc: VpcId,
    /// Whether it is its VPC's main route table. (Whether it was written in the file
    /// or is the implicit main table is not kept: a change at run time may make the
    /// implicit table one that must be written, and it is written back as a declared
    /// table; the two read back the same.)
    pub main: bool,
    /// The `local` routes first, one per VPC CIDR in the VPC's order (origin
    /// [`RouteOrigin::Local`], target [`RouteTarget::Local`] or the network interface
    /// that replaced it), then the configured routes in the order written (origin
    /// [`RouteOrigin::Static`]). A configured route that replaces a local route's target
    /// is that local route, not a static route. Destinations are unique.
    pub routes: Vec<Route>,
    /// The internet gateways it is associated with (AWS's edge associations), in the
    /// order written: it routes the traffic entering the VPC through them, after the
    /// gateway translated the public destination to the private one. Non-empty makes
    /// it a gateway route table: its routes are then all inside the VPC's blocks, and
    /// every non-`local` target is a network interface. Each gateway is attached to the
    /// table's VPC and in at most one table's list ([`Topology::gateway_route_table`]).
    pub gateways: Vec<InternetGatewayId>,
    /// The VPN gateways whose routes it propagates (`propagating_vgws`, AWS's
    /// `EnableVgwRoutePropagation`), in the order written: each attached to the
    /// table's VPC. Propagated routes come with VPN connections; none exist yet.
    pub propagating_vgws: Vec<crate::VpnGatewayId>,
}

/// One route: a destination prefix and where matching packets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The destination prefix.
    pub destination: Ipv4Net,
    /// Where matching packets are sent.
    pub target: RouteTarget,
    /// How the route came to be.
    pub origin: RouteOrigin,
}

/// How a route came to be (AWS's route `Origin`). The order is the preference among
/// routes of equal prefix length: the lower one wins (`Local` before `Static`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteOrigin {
    /// AWS's `CreateRouteTable`: the VPC's own local route, one per CIDR block of the
    /// VPC, in every route table. Its target is [`RouteTarget::Local`], or a network
    /// interface that replaced it (`ReplaceRoute` on a local route; restored to
    /// `local` with `--local-target`).
    Local,
    /// AWS's `CreateRoute`: a route written in the configuration. (Later issues add
    /// propagated routes.)
    Static,
    /// A gateway endpoint's route to its service's prefix list (one per block of the
    /// list): after a static route of the same prefix, as AWS ranks them. Not in
    /// [`RouteTable::routes`]: see [`Topology::endpoint_routes`].
    PrefixList,
    /// AWS's `EnableVgwRoutePropagation`: a route a VPN gateway propagates (a VPN
    /// connection's static route or one learned over BGP): after every other route of
    /// the same prefix. Not in [`RouteTable::routes`]: see
    /// [`Topology::propagated_routes`].
    Propagated,
}

impl RouteOrigin {
    /// AWS's name of the origin (`DescribeRouteTables`): `CreateRouteTable` or
    /// `CreateRoute`.
    pub fn aws_name(self) -> &'static str {
        match self {
            RouteOrigin::Local => "CreateRouteTable",
            RouteOrigin::Static => "CreateRoute",
            // vpcd's choice: AWS adds the route when the endpoint is created or
            // modified; it is shown as created by a call, like a static one.
            RouteOrigin::PrefixList => "CreateRoute",
            RouteOrigin::Propagated => "EnableVgwRoutePropagation",
        }
    }
}

/// A route's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteTarget {
    /// Delivery inside the VPC to the ENI that owns the destination address.
    Local,
    /// A network interface (written as an `instance` or a `network_interface` target):
    /// middlebox routing to an appliance. Also the target of a local route whose
    /// target was replaced.
    Eni(EniId),
    /// An internet gateway (`internet_gateway`): 1:1 NAT to public addresses, the internet.
    /// `blackhole` while it is not attached to the route table's VPC.
    InternetGateway(InternetGatewayId),
    /// A NAT gateway (`nat_gateway`). `blackhole` once it is deleted.
    NatGateway(NatGatewayId),
    /// A VPC peering connection (`vpc_peering_connection`) that has the table's VPC on
    /// one side: the packet goes on in the VPC on the other side. `blackhole` while the
    /// connection is not active (pending acceptance, or deleted).
    VpcPeeringConnection(VpcPeeringConnectionId),
    /// A transit gateway (`transit_gateway`) the table's VPC has an attachment to: the
    /// packet enters the gateway through that attachment, and the route table
    /// associated with it decides where it goes. `blackhole` while the attachment is
    /// not available.
    TransitGateway(TransitGatewayId),
    /// A gateway VPC endpoint (`vpce-...`): only in a route to its service's prefix
    /// list, which the endpoint adds (never written as a route).
    VpcEndpoint(crate::VpcEndpointId),
    /// A virtual private gateway (`vpn_gateway`) attached to the table's VPC: the
    /// packet goes to the VPN connections of the gateway. `blackhole` while it is not
    /// attached to the table's VPC.
    VpnGateway(crate::VpnGatewayId),
}

impl RouteTarget {
    /// Whether a gateway route table may route to it (AWS: only `local` or a network
    /// interface).
    pub fn allowed_in_gateway_route_table(self) -> bool {
        matches!(self, RouteTarget::Local | RouteTarget::Eni(_))
    }
}

/// An instance: one network namespace with one or more ENIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Unique name; also the name of its network namespace (after the daemon's prefix).
    pub name: String,
    /// Its ENIs; the first one is the primary interface `eth0`.
    pub enis: Vec<EniId>,
    /// What `RunInstances` was given that only the EC2 API shows (image, type, key,
    /// user data, launch time, ...); all empty for an instance written by hand.
    pub launch: Launch,
}

/// What the EC2 API keeps of an instance's launch and attributes; the dataplane does
/// not use any of it. Every field is optional in the file (`[[instance]]` keys of the
/// same names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    /// `image_id`: the AMI it was launched from (`ami-` and 8 or 17 hex digits).
    pub image_id: Option<String>,
    /// `instance_type`: e.g. `t3.micro` (1 to 64 letters, digits, `.`, `-`).
    pub instance_type: Option<String>,
    /// `key_name`: the key pair named at launch (1 to 255 characters).
    pub key_name: Option<String>,
    /// `user_data`: the user data as sent, base64 (at most [`MAX_USER_DATA_LEN`]).
    pub user_data: Option<String>,
    /// `launch_time`: RFC 3339 UTC, `2025-12-06T05:46:40Z` or with milliseconds.
    pub launch_time: Option<String>,
    /// `client_token`: `RunInstances`' idempotency token (1 to 64 characters).
    pub client_token: Option<String>,
    /// `instance_initiated_shutdown_behavior`: `stop` or `terminate` (omitted: `stop`).
    pub shutdown_behavior: Option<String>,
    /// `disable_api_termination` (default false): `TerminateInstances` refuses.
    pub disable_api_termination: bool,
    /// `disable_api_stop` (default false).
    pub disable_api_stop: bool,
    /// `metadata_options`: how the metadata service answers it (default: AWS's).
    pub metadata_options: crate::metadata::MetadataOptions,
}

/// The longest `user_data`, in characters of base64 (AWS: 16 KiB before encoding).
pub const MAX_USER_DATA_LEN: usize = 21_848;

/// An instance that was terminated (`[[terminated_instance]]`): no namespace, no
/// interfaces, nothing the dataplane sees; the EC2 API shows it as `terminated` for an
/// hour after `terminated_time`, as AWS does, and forgets it after that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminatedInstance {
    /// Its name (the one it had while it ran, so that its ID stays the same). No
    /// running instance has it.
    pub name: String,
    /// The account that owned it (default [`crate::DEFAULT_ACCOUNT`]).
    pub owner_id: String,
    /// Its region (default [`crate::DEFAULT_REGION`]).
    pub region: String,
    /// Its availability zone as subnets write it (`a`), if known.
    pub az: Option<String>,
    /// What it was launched with (`user_data` and the attributes are not kept).
    pub launch: Launch,
    /// When it was terminated, RFC 3339 UTC like `launch_time`.
    pub terminated_time: Option<String>,
}

/// A network interface attached to an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eni {
    /// The instance it is attached to.
    pub instance: InstanceId,
    /// Device index: the interface is `eth{device_index}` inside the instance.
    pub device_index: u8,
    /// Its subnet.
    pub subnet: SubnetId,
    /// Its primary private IPv4 address.
    pub private_ip: Ipv4Addr,
    /// Source/destination check (AWS default: on).
    pub source_dest_check: bool,
    /// Its security groups, 1 to 5, in the order written (the VPC's default group if
    /// none was named). All of them are of its VPC.
    pub security_groups: Vec<SecurityGroupId>,
    /// Connection-tracking idle timeouts.
    pub conntrack: ConntrackTimeouts,
    /// Its auto-assigned public IPv4 address (`public_ip`), if any. An Elastic IP
    /// associated with the ENI takes its place (see [`Topology::eni_public_ip`]).
    pub public_ip: Option<Ipv4Addr>,
}

/// An internet gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetGateway {
    /// Unique name.
    pub name: String,
    /// The VPC it is attached to; `None` while detached. A VPC has at most one.
    pub vpc: Option<VpcId>,
}

/// Whether a NAT gateway translates to public addresses (through the internet gateway)
/// or only to its private ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatConnectivity {
    /// Each private address has an Elastic IP; traffic leaves through the IGW.
    Public,
    /// Translates to its private addresses; its traffic to an IGW is dropped.
    Private,
}

/// AWS's limit of simultaneous connections per (NAT address, destination address,
/// destination port, protocol).
pub const NAT_MAX_CONNECTIONS_PER_DESTINATION: u32 = 55_000;

/// The most addresses a NAT gateway has (AWS: 8 Elastic IPs / private addresses).
pub const NAT_MAX_ADDRESSES: usize = 8;

/// The source ports a NAT gateway hands out by default (AWS: 1024-65535).
pub const NAT_DEFAULT_PORTS: PortRange = PortRange {
    from: 1024,
    to: 65535,
};

/// A NAT gateway in a subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatGateway {
    /// Unique name.
    pub name: String,
    /// Its subnet: its addresses are in it, its NACL applies, its route table routes
    /// what it translated.
    pub subnet: SubnetId,
    /// Public or private.
    pub connectivity: NatConnectivity,
    /// Its private addresses, 1 to 8, the primary first; each translates on its own.
    /// For a public NAT gateway, address `i` is paired with Elastic IP `i` of
    /// [`Topology::nat_public_ips`].
    pub private_ips: Vec<Ipv4Addr>,
    /// The source ports it hands out (`source_ports`, default 1024-65535).
    pub source_ports: PortRange,
    /// Simultaneous connections per (address, destination address, destination port,
    /// protocol): at most [`NAT_MAX_CONNECTIONS_PER_DESTINATION`] and the ports in
    /// `source_ports`.
    pub max_connections_per_destination: u32,
    /// Whether it was deleted (at run time; `state = "deleted"` in the file): routes
    /// to it are `blackhole`.
    pub deleted: bool,
}

/// What an Elastic IP is associated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EipAssociation {
    /// A network interface: the IGW maps the ENI's private address to it.
    Eni(EniId),
    /// A public NAT gateway's private address number `usize` (index in `private_ips`).
    NatGateway(NatGatewayId, usize),
}

/// An Elastic IP: a public address allocated to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElasticIp {
    /// Unique name (the address written with dashes if none was given, e.g. `eip-198-51-100-10`).
    pub name: String,
    /// The public address, in a documentation range.
    pub address: Ipv4Addr,
    /// What it is associated with, if anything.
    pub association: Option<EipAssociation>,
}

/// A host of the emulated internet: its own namespace on a daemon-owned TUN device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetHost {
    /// Unique name; also the name of its namespace (after the daemon's prefix).
    pub name: String,
    /// Its address, in a documentation range.
    pub address: Ipv4Addr,
    /// `dns_names`: domain names (canonical) the VPCs' resolver answers with its
    /// address.
    pub dns_names: Vec<String>,
    /// Declared (`[[internet_host]]`), or made for site-to-site VPN
    /// ([`Topology::derive_vpn_hosts`]).
    pub role: HostRole,
}

/// Why an internet host exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRole {
    /// Declared in the configuration.
    Declared,
    /// The site of a customer gateway (its device's namespace).
    Site(crate::CustomerGatewayId),
    /// The AWS end of tunnel `.1` (0 or 1) of a VPN connection.
    Tunnel(crate::VpnConnectionId, u8),
    /// The far end of a virtual private gateway: its router namespace, where its
    /// tunnels end and its BGP speaker runs. Not on the internet: what it sends enters
    /// the gateway, what the gateway sends to a site goes to it.
    VpnGateway(crate::VpnGatewayId),
}

impl Topology {
    /// The VPC with id `id`.
    pub fn vpc(&self, id: VpcId) -> &Vpc {
        &self.vpcs[id.index()]
    }

    /// The subnet with id `id`.
    pub fn subnet(&self, id: SubnetId) -> &Subnet {
        &self.subnets[id.index()]
    }

    /// The route table with id `id`.
    pub fn route_table(&self, id: RouteTableId) -> &RouteTable {
        &self.route_tables[id.index()]
    }

    /// The instance with id `id`.
    pub fn instance(&self, id: InstanceId) -> &Instance {
        &self.instances[id.index()]
    }

    /// The ENI with id `id`.
    pub fn eni(&self, id: EniId) -> &Eni {
        &self.enis[id.index()]
    }

    /// The security group with id `id`.
    pub fn security_group(&self, id: SecurityGroupId) -> &SecurityGroup {
        &self.security_groups[id.index()]
    }

    /// The network ACL with id `id`.
    pub fn network_acl(&self, id: NetworkAclId) -> &NetworkAcl {
        &self.network_acls[id.index()]
    }

    /// The ENIs a flow log covers.
    pub fn flow_log_enis(&self, id: FlowLogId) -> impl Iterator<Item = EniId> + '_ {
        let resource = self.flow_logs[id.index()].resource;
        self.eni_ids().filter(move |&e| match resource {
            FlowLogResource::Vpc(v) => self.eni_vpc(e) == v,
            FlowLogResource::Subnet(s) => self.eni(e).subnet == s,
            FlowLogResource::Eni(x) => x == e,
        })
    }

    /// The ENI whose name (`instance/ethN`) or whose instance's name (for its `eth0`)
    /// is `name`.
    pub fn find_eni(&self, name: &str) -> Option<EniId> {
        self.eni_ids().find(|&e| {
            let eni = self.eni(e);
            self.eni_name(e).to_string() == name
                || (eni.device_index == 0 && self.instance(eni.instance).name == name)
        })
    }

    /// The ENI's name as users write it: `instance/ethN`.
    pub fn eni_name(&self, id: EniId) -> EniName<'_> {
        let eni = self.eni(id);
        EniName {
            instance: &self.instance(eni.instance).name,
            device_index: eni.device_index,
        }
    }

    /// All ENI ids, in order.
    pub fn eni_ids(&self) -> impl Iterator<Item = EniId> + '_ {
        (0..self.enis.len() as u32).map(EniId)
    }

    /// The VPC an ENI belongs to (through its subnet).
    pub fn eni_vpc(&self, id: EniId) -> VpcId {
        self.subnet(self.eni(id).subnet).vpc
    }

    /// A route target as users write it: `local`, `web/eth0`, `igw`, `nat-a`, `a-b`,
    /// `tgw`.
    pub fn route_target_name(&self, target: RouteTarget) -> String {
        match target {
            RouteTarget::Local => "local".to_owned(),
            RouteTarget::Eni(e) => self.eni_name(e).to_string(),
            RouteTarget::InternetGateway(g) => self.internet_gateway(g).name.clone(),
            RouteTarget::NatGateway(n) => self.nat_gateway(n).name.clone(),
            RouteTarget::VpcPeeringConnection(p) => self.vpc_peering_connection(p).name.clone(),
            RouteTarget::TransitGateway(g) => self.transit_gateway(g).name.clone(),
            RouteTarget::VpcEndpoint(e) => self.vpc_endpoint(e).name.clone(),
            RouteTarget::VpnGateway(g) => self.vpn_gateway(g).name.clone(),
        }
    }

    /// The internet gateway with id `id`.
    pub fn internet_gateway(&self, id: InternetGatewayId) -> &InternetGateway {
        &self.internet_gateways[id.index()]
    }

    /// The NAT gateway with id `id`.
    pub fn nat_gateway(&self, id: NatGatewayId) -> &NatGateway {
        &self.nat_gateways[id.index()]
    }

    /// The internet host with id `id`.
    pub fn internet_host(&self, id: HostId) -> &InternetHost {
        &self.internet_hosts[id.index()]
    }

    /// All internet host ids, in order.
    pub fn host_ids(&self) -> impl Iterator<Item = HostId> + '_ {
        (0..self.internet_hosts.len() as u32).map(HostId)
    }

    /// The gateway route table of internet gateway `igw` (the table it is
    /// edge-associated with), if any: it routes the traffic entering the VPC through
    /// `igw`.
    pub fn gateway_route_table(&self, igw: InternetGatewayId) -> Option<RouteTableId> {
        self.route_tables
            .iter()
            .position(|t| t.gateways.contains(&igw))
            .map(|i| RouteTableId(i as u32))
    }

    /// The internet gateway attached to `vpc`, if any.
    pub fn vpc_internet_gateway(&self, vpc: VpcId) -> Option<InternetGatewayId> {
        self.internet_gateways
            .iter()
            .position(|g| g.vpc == Some(vpc))
            .map(|i| InternetGatewayId(i as u32))
    }

    /// The public address the internet gateway maps ENI `id`'s private address to: an
    /// associated Elastic IP, else its auto-assigned public IP.
    pub fn eni_public_ip(&self, id: EniId) -> Option<Ipv4Addr> {
        self.elastic_ips
            .iter()
            .find(|e| e.association == Some(EipAssociation::Eni(id)))
            .map(|e| e.address)
            .or(self.eni(id).public_ip)
    }

    /// Per private address of NAT gateway `id`: its Elastic IP (public NAT gateways).
    pub fn nat_public_ips(&self, id: NatGatewayId) -> Vec<Option<Ipv4Addr>> {
        (0..self.nat_gateway(id).private_ips.len())
            .map(|i| {
                self.elastic_ips
                    .iter()
                    .find(|e| e.association == Some(EipAssociation::NatGateway(id, i)))
                    .map(|e| e.address)
            })
            .collect()
    }

    /// Every 1:1 mapping an internet gateway performs: (VPC, private, public), for ENIs
    /// and NAT gateway addresses that have a public address. (Whether the VPC has an
    /// attached internet gateway is not checked here.)
    pub fn public_mappings(&self) -> Vec<(VpcId, Ipv4Addr, Ipv4Addr)> {
        let mut out = Vec::new();
        for e in self.eni_ids() {
            if let Some(public) = self.eni_public_ip(e) {
                out.push((self.eni_vpc(e), self.eni(e).private_ip, public));
            }
        }
        for (n, nat) in self.nat_gateways.iter().enumerate() {
            if nat.deleted {
                continue;
            }
            let vpc = self.subnet(nat.subnet).vpc;
            for (private, public) in nat
                .private_ips
                .iter()
                .zip(self.nat_public_ips(NatGatewayId(n as u32)))
            {
                if let Some(public) = public {
                    out.push((vpc, *private, public));
                }
            }
        }
        out
    }

    /// The embedded demo topology (`config/demo.toml`).
    pub fn demo() -> Topology {
        // The demo is checked by a unit test, so this cannot fail at run time.
        #[allow(clippy::expect_used)]
        crate::parse(crate::DEMO_TOML, crate::DEMO_FILE_NAME).expect("the embedded demo is valid")
    }
}

impl ElasticIp {
    /// The name of an Elastic IP given none: `eip-` and the address with dashes,
    /// e.g. `eip-198-51-100-10`.
    pub fn default_name(address: Ipv4Addr) -> String {
        format!("eip-{}", address.to_string().replace('.', "-"))
    }
}

impl Eni {
    /// Its device name inside the instance: `ethN`.
    pub fn device(&self) -> DeviceName {
        DeviceName(self.device_index)
    }
}

/// The device name of an interface inside its instance: `eth{index}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceName(pub u8);

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "eth{}", self.0)
    }
}

/// Display form of an ENI: `web/eth0`.
#[derive(Debug, Clone, Copy)]
pub struct EniName<'a> {
    instance: &'a str,
    device_index: u8,
}

impl fmt::Display for EniName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.instance, DeviceName(self.device_index))
    }
}
