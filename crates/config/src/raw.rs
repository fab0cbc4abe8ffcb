//! The configuration file as written: serde types mirroring the TOML, every value kept
//! with its byte span so validation errors can name line and column.
//!
//! Nothing here is checked beyond TOML types and unknown keys (`deny_unknown_fields`);
//! `validate` turns these into a [`crate::Topology`]. Keys follow the AWS API's
//! parameter names in snake case (a route has `destination` and exactly one target key,
//! like `CreateRoute` has `DestinationCidrBlock` and one of `InstanceId`,
//! `NetworkInterfaceId`, `GatewayId`, `NatGatewayId`, ...).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

mod dns;
mod vpn;
pub(crate) use dns::*;
pub(crate) use vpn::*;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub vpc: Vec<RawVpc>,
    #[serde(default)]
    pub subnet: Vec<RawSubnet>,
    #[serde(default)]
    pub route_table: Vec<RawRouteTable>,
    #[serde(default)]
    pub instance: Vec<RawInstance>,
    #[serde(default)]
    pub terminated_instance: Vec<RawTerminatedInstance>,
    #[serde(default)]
    pub security_group: Vec<RawSecurityGroup>,
    #[serde(default)]
    pub network_acl: Vec<RawNetworkAcl>,
    #[serde(default)]
    pub flow_log: Vec<RawFlowLog>,
    #[serde(default)]
    pub internet_gateway: Vec<RawInternetGateway>,
    #[serde(default)]
    pub elastic_ip: Vec<RawElasticIp>,
    #[serde(default)]
    pub nat_gateway: Vec<RawNatGateway>,
    #[serde(default)]
    pub internet_host: Vec<RawInternetHost>,
    #[serde(default)]
    pub vpc_peering_connection: Vec<RawVpcPeeringConnection>,
    #[serde(default)]
    pub transit_gateway: Vec<RawTransitGateway>,
    #[serde(default)]
    pub transit_gateway_vpc_attachment: Vec<RawTgwVpcAttachment>,
    #[serde(default)]
    pub transit_gateway_peering_attachment: Vec<RawTgwPeeringAttachment>,
    #[serde(default)]
    pub resource_share: Vec<RawResourceShare>,
    #[serde(default)]
    pub transit_gateway_route_table: Vec<RawTgwRouteTable>,
    #[serde(default)]
    pub transit_gateway_multicast_domain: Vec<RawMulticastDomain>,
    #[serde(default)]
    pub dhcp_options: Vec<RawDhcpOptions>,
    #[serde(default)]
    pub private_hosted_zone: Vec<RawHostedZone>,
    /// `[[aws_service]]`: an emulated AWS service and its managed prefix list.
    #[serde(default)]
    pub aws_service: Vec<RawAwsService>,
    /// `[[vpc_endpoint]]` (`CreateVpcEndpoint`).
    #[serde(default)]
    pub vpc_endpoint: Vec<RawVpcEndpoint>,
    /// `[[vpn_gateway]]` (`CreateVpnGateway`).
    #[serde(default)]
    pub vpn_gateway: Vec<RawVpnGateway>,
    /// `[[customer_gateway]]` (`CreateCustomerGateway`).
    #[serde(default)]
    pub customer_gateway: Vec<RawCustomerGateway>,
    /// `[[vpn_connection]]` (`CreateVpnConnection`).
    #[serde(default)]
    pub vpn_connection: Vec<RawVpnConnection>,
    /// `[limits]`: the sizes of the dataplane's tables.
    #[serde(default)]
    pub limits: Option<RawLimits>,
    /// `[tags."<resource id>"]`: each resource's tags (`CreateTags`), by EC2 resource
    /// ID, key to value.
    #[serde(default)]
    pub tags: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// `[[vpc]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpc {
    pub name: Spanned<String>,
    pub cidr: Spanned<String>,
    #[serde(default)]
    pub secondary_cidrs: Vec<Spanned<String>>,
    /// The owning account (`OwnerId`); omitted: [`crate::DEFAULT_ACCOUNT`].
    #[serde(default)]
    pub owner_id: Option<Spanned<String>>,
    /// Its region; omitted: [`crate::DEFAULT_REGION`].
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    /// `ModifyVpcAttribute EnableDnsSupport`; omitted: true.
    #[serde(default)]
    pub enable_dns_support: Option<bool>,
    /// `ModifyVpcAttribute EnableDnsHostnames`; omitted: false.
    #[serde(default)]
    pub enable_dns_hostnames: Option<bool>,
    /// `ModifyVpcAttribute EnableNetworkAddressUsageMetrics`; omitted: false.
    #[serde(default)]
    pub enable_network_address_usage_metrics: Option<bool>,
    /// `AssociateDhcpOptions`: a `[[dhcp_options]]` by name; omitted: AWS's default
    /// set.
    #[serde(default)]
    pub dhcp_options: Option<Spanned<String>>,
}

/// `[[subnet]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSubnet {
    pub name: Spanned<String>,
    pub vpc: Spanned<String>,
    pub cidr: Spanned<String>,
    pub az: Spanned<String>,
    /// `ModifySubnetAttribute MapPublicIpOnLaunch`; omitted: false.
    #[serde(default)]
    pub map_public_ip_on_launch: Option<bool>,
}

/// `[[route_table]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRouteTable {
    pub name: Spanned<String>,
    pub vpc: Spanned<String>,
    #[serde(default)]
    pub main: Option<Spanned<bool>>,
    /// Explicit subnet associations.
    #[serde(default)]
    pub subnets: Vec<Spanned<String>>,
    /// Edge associations: internet gateways whose inbound traffic the table routes
    /// (`AssociateRouteTable` with `GatewayId`), which makes it a gateway route table.
    #[serde(default)]
    pub gateways: Vec<Spanned<String>>,
    /// VPN gateways whose routes the table propagates (`EnableVgwRoutePropagation`).
    #[serde(default)]
    pub propagating_vgws: Vec<Spanned<String>>,
    #[serde(default)]
    pub route: Vec<Spanned<RawRoute>>,
}

/// One `[[route_table.route]]` (or an inline table in `route = [...]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub destination: Spanned<String>,
    /// Target: an instance with exactly one network interface.
    #[serde(default)]
    pub instance: Option<Spanned<String>>,
    /// Target: a network interface, written `instance/ethN`.
    #[serde(default)]
    pub network_interface: Option<Spanned<String>>,
    /// Target: an internet gateway (`GatewayId`), attached to the table's VPC.
    #[serde(default)]
    pub internet_gateway: Option<Spanned<String>>,
    /// Target: a NAT gateway (`NatGatewayId`) in the table's VPC.
    #[serde(default)]
    pub nat_gateway: Option<Spanned<String>>,
    /// Target: a VPC peering connection (`VpcPeeringConnectionId`) with the table's
    /// VPC on one side.
    #[serde(default)]
    pub vpc_peering_connection: Option<Spanned<String>>,
    /// Target: a transit gateway (`TransitGatewayId`) the table's VPC is attached to.
    #[serde(default)]
    pub transit_gateway: Option<Spanned<String>>,
    /// Target: a virtual private gateway (`GatewayId`, `vgw-...`) attached to the
    /// table's VPC.
    #[serde(default)]
    pub vpn_gateway: Option<Spanned<String>>,
    /// The route's `State`: `"active"` or `"blackhole"`; omitted: what its target makes
    /// it. `"blackhole"` admits a route to an internet gateway not attached to the
    /// table's VPC (what `DetachInternetGateway` leaves behind).
    #[serde(default)]
    pub state: Option<Spanned<String>>,
}

/// `[[instance]]`: the instance-level `subnet`, `private_ip` and `source_dest_check`
/// describe the primary interface `eth0`, as `RunInstances` takes them; each
/// `[[instance.eni]]` attaches one more interface (`eth1`, `eth2`, ...).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInstance {
    pub name: Spanned<String>,
    pub subnet: Spanned<String>,
    #[serde(default)]
    pub private_ip: Option<Spanned<String>>,
    #[serde(default)]
    pub source_dest_check: Option<bool>,
    /// `eth0`'s auto-assigned public IPv4 address.
    #[serde(default)]
    pub public_ip: Option<Spanned<String>>,
    /// `eth0`'s security groups (`None`: the VPC's default group).
    #[serde(default)]
    pub security_groups: Option<Spanned<Vec<Spanned<String>>>>,
    /// `eth0`'s connection-tracking timeouts.
    #[serde(default)]
    pub connection_tracking: Option<RawConntrack>,
    #[serde(default)]
    pub eni: Vec<Spanned<RawEni>>,
    /// `RunInstances`' `ImageId`.
    #[serde(default)]
    pub image_id: Option<Spanned<String>>,
    /// `RunInstances`' `InstanceType`.
    #[serde(default)]
    pub instance_type: Option<Spanned<String>>,
    /// `RunInstances`' `KeyName`.
    #[serde(default)]
    pub key_name: Option<Spanned<String>>,
    /// `RunInstances`' `UserData` (base64, as sent).
    #[serde(default)]
    pub user_data: Option<Spanned<String>>,
    /// When it was launched (RFC 3339, UTC).
    #[serde(default)]
    pub launch_time: Option<Spanned<String>>,
    /// `RunInstances`' `ClientToken`.
    #[serde(default)]
    pub client_token: Option<Spanned<String>>,
    /// `"stop"` or `"terminate"`.
    #[serde(default)]
    pub instance_initiated_shutdown_behavior: Option<Spanned<String>>,
    #[serde(default)]
    pub disable_api_termination: Option<bool>,
    #[serde(default)]
    pub disable_api_stop: Option<bool>,
    /// `RunInstances`' `MetadataOptions` (see `metadata.rs`).
    #[serde(default)]
    pub metadata_options: Option<Spanned<crate::metadata::RawMetadataOptions>>,
}

/// `[[terminated_instance]]`: what the EC2 API still shows of a terminated instance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTerminatedInstance {
    pub name: Spanned<String>,
    #[serde(default)]
    pub owner_id: Option<Spanned<String>>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub az: Option<Spanned<String>>,
    #[serde(default)]
    pub image_id: Option<Spanned<String>>,
    #[serde(default)]
    pub instance_type: Option<Spanned<String>>,
    #[serde(default)]
    pub key_name: Option<Spanned<String>>,
    #[serde(default)]
    pub launch_time: Option<Spanned<String>>,
    #[serde(default)]
    pub client_token: Option<Spanned<String>>,
    #[serde(default)]
    pub terminated_time: Option<Spanned<String>>,
}

/// `[[instance.eni]]`: a secondary network interface.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEni {
    pub subnet: Spanned<String>,
    #[serde(default)]
    pub private_ip: Option<Spanned<String>>,
    #[serde(default)]
    pub source_dest_check: Option<bool>,
    /// The interface's auto-assigned public IPv4 address.
    #[serde(default)]
    pub public_ip: Option<Spanned<String>>,
    /// The interface's security groups (`None`: the VPC's default group).
    #[serde(default)]
    pub security_groups: Option<Spanned<Vec<Spanned<String>>>>,
    /// The interface's connection-tracking timeouts.
    #[serde(default)]
    pub connection_tracking: Option<RawConntrack>,
}

/// `connection_tracking = { ... }` of an interface (EC2's
/// `ConnectionTrackingSpecificationRequest`), in seconds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConntrack {
    #[serde(default)]
    pub tcp_established_timeout: Option<Spanned<i64>>,
    #[serde(default)]
    pub udp_stream_timeout: Option<Spanned<i64>>,
    #[serde(default)]
    pub udp_timeout: Option<Spanned<i64>>,
}

/// `[[security_group]]`. An omitted `ingress` or `egress` (`None`) gets AWS's default
/// for a new group; an empty one has no rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecurityGroup {
    pub name: Spanned<String>,
    pub vpc: Spanned<String>,
    /// Free text (`CreateSecurityGroup`'s `GroupDescription`).
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    #[serde(default)]
    pub ingress: Option<Spanned<Vec<Spanned<RawSgRule>>>>,
    #[serde(default)]
    pub egress: Option<Spanned<Vec<Spanned<RawSgRule>>>>,
}

/// One security group rule (`IpPermission`): a protocol, ports or ICMP type/code, and
/// exactly one peer: `cidr` or `security_group` (with its `vpc` if it is a peer VPC's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSgRule {
    pub protocol: Spanned<String>,
    #[serde(default)]
    pub port: Option<Spanned<i64>>,
    #[serde(default)]
    pub from_port: Option<Spanned<i64>>,
    #[serde(default)]
    pub to_port: Option<Spanned<i64>>,
    #[serde(default)]
    pub icmp_type: Option<Spanned<i64>>,
    #[serde(default)]
    pub icmp_code: Option<Spanned<i64>>,
    #[serde(default)]
    pub cidr: Option<Spanned<String>>,
    #[serde(default)]
    pub security_group: Option<Spanned<String>>,
    /// A managed prefix list, by `pl-` ID or name (`PrefixListIds.PrefixListId`).
    #[serde(default)]
    pub prefix_list_id: Option<Spanned<String>>,
    /// The VPC of `security_group` (`UserIdGroupPair.VpcId`): the rule's own VPC
    /// (omitted), or a VPC peered with it in the same region.
    #[serde(default)]
    pub vpc: Option<Spanned<String>>,
    #[serde(default)]
    pub description: Option<Spanned<String>>,
}

/// `[[network_acl]]`. An omitted `ingress` or `egress` (`None`) is empty for a custom
/// NACL and allow-all for a declared `default` one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetworkAcl {
    pub name: Spanned<String>,
    pub vpc: Spanned<String>,
    /// Explicit subnet associations.
    #[serde(default)]
    pub subnets: Vec<Spanned<String>>,
    #[serde(default)]
    pub ingress: Option<Spanned<Vec<Spanned<RawNaclRule>>>>,
    #[serde(default)]
    pub egress: Option<Spanned<Vec<Spanned<RawNaclRule>>>>,
}

/// One network ACL entry (`CreateNetworkAclEntry`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNaclRule {
    pub rule_number: Spanned<i64>,
    pub protocol: Spanned<String>,
    pub action: Spanned<String>,
    /// Required (an `Option` so that a `prefix_list_id` instead is refused clearly).
    #[serde(default)]
    pub cidr: Option<Spanned<String>>,
    /// Refused: AWS network ACL entries take only a CIDR block.
    #[serde(default)]
    pub prefix_list_id: Option<Spanned<String>>,
    #[serde(default)]
    pub port: Option<Spanned<i64>>,
    #[serde(default)]
    pub from_port: Option<Spanned<i64>>,
    #[serde(default)]
    pub to_port: Option<Spanned<i64>>,
    #[serde(default)]
    pub icmp_type: Option<Spanned<i64>>,
    #[serde(default)]
    pub icmp_code: Option<Spanned<i64>>,
}

/// The protocol, port and ICMP keys that security group and NACL rules share.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawL4<'a> {
    pub protocol: &'a Spanned<String>,
    pub port: Option<&'a Spanned<i64>>,
    pub from_port: Option<&'a Spanned<i64>>,
    pub to_port: Option<&'a Spanned<i64>>,
    pub icmp_type: Option<&'a Spanned<i64>>,
    pub icmp_code: Option<&'a Spanned<i64>>,
}

impl RawSgRule {
    pub(crate) fn l4(&self) -> RawL4<'_> {
        RawL4 {
            protocol: &self.protocol,
            port: self.port.as_ref(),
            from_port: self.from_port.as_ref(),
            to_port: self.to_port.as_ref(),
            icmp_type: self.icmp_type.as_ref(),
            icmp_code: self.icmp_code.as_ref(),
        }
    }
}

impl RawNaclRule {
    pub(crate) fn l4(&self) -> RawL4<'_> {
        RawL4 {
            protocol: &self.protocol,
            port: self.port.as_ref(),
            from_port: self.from_port.as_ref(),
            to_port: self.to_port.as_ref(),
            icmp_type: self.icmp_type.as_ref(),
            icmp_code: self.icmp_code.as_ref(),
        }
    }
}

/// `[[flow_log]]` (`CreateFlowLogs`): exactly one of `vpc`, `subnet` and
/// `network_interface` names what it covers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlowLog {
    pub name: Spanned<String>,
    #[serde(default)]
    pub vpc: Option<Spanned<String>>,
    #[serde(default)]
    pub subnet: Option<Spanned<String>>,
    /// Written `instance/ethN`.
    #[serde(default)]
    pub network_interface: Option<Spanned<String>>,
    #[serde(default)]
    pub traffic_type: Option<Spanned<String>>,
    pub log_destination: Spanned<String>,
    #[serde(default)]
    pub log_format: Option<Spanned<String>>,
    #[serde(default)]
    pub max_aggregation_interval: Option<Spanned<i64>>,
    /// `"cloud-watch-logs"` or `"s3"`: where the EC2 API was asked to deliver it
    /// (`LogDestinationType`); with `log_destination_arn`.
    #[serde(default)]
    pub log_destination_type: Option<Spanned<String>>,
    /// The ARN the EC2 API was given (`LogDestination`, or the log group's).
    #[serde(default)]
    pub log_destination_arn: Option<Spanned<String>>,
    /// `DeliverLogsPermissionArn`, as given to the EC2 API.
    #[serde(default)]
    pub deliver_logs_permission_arn: Option<Spanned<String>>,
}

/// `[[internet_gateway]]` (`CreateInternetGateway`, and `AttachInternetGateway` when
/// `vpc` is given).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInternetGateway {
    pub name: Spanned<String>,
    /// The VPC it is attached to; omitted: detached.
    #[serde(default)]
    pub vpc: Option<Spanned<String>>,
}

/// `[[elastic_ip]]` (`AllocateAddress`, and `AssociateAddress` when `instance` or
/// `network_interface` is given: at most one of them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawElasticIp {
    pub address: Spanned<String>,
    /// Omitted: `eip-` and the address with dashes (`eip-198-51-100-10`).
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Association with the instance's `eth0`.
    #[serde(default)]
    pub instance: Option<Spanned<String>>,
    /// Association with a network interface, written `instance/ethN`.
    #[serde(default)]
    pub network_interface: Option<Spanned<String>>,
}

/// `[[nat_gateway]]` (`CreateNatGateway`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNatGateway {
    pub name: Spanned<String>,
    pub subnet: Spanned<String>,
    /// `"public"` (the default) or `"private"`.
    #[serde(default)]
    pub connectivity: Option<Spanned<String>>,
    /// Elastic IPs, each by address or name (public NAT gateways).
    #[serde(default)]
    pub elastic_ips: Option<Spanned<Vec<Spanned<String>>>>,
    /// Private addresses in the subnet; omitted: allocated.
    #[serde(default)]
    pub private_ips: Option<Spanned<Vec<Spanned<String>>>>,
    /// `"FROM-TO"` or one port, inside 1024-65535.
    #[serde(default)]
    pub source_ports: Option<Spanned<String>>,
    /// AWS's `State`: `"available"` (the default) or `"deleted"` (`DeleteNatGateway`:
    /// kept so that routes to it are `blackhole`; it has no Elastic IPs).
    #[serde(default)]
    pub state: Option<Spanned<String>>,
}

/// `[[internet_host]]`: a host of the emulated internet.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInternetHost {
    pub name: Spanned<String>,
    pub address: Spanned<String>,
    /// Domain names the VPCs' resolver answers with its address.
    #[serde(default)]
    pub dns_names: Vec<Spanned<String>>,
}

/// `[[vpc_peering_connection]]` (`CreateVpcPeeringConnection`, and
/// `AcceptVpcPeeringConnection` when `status` is `"active"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpcPeeringConnection {
    pub name: Spanned<String>,
    /// The requester (`VpcId`).
    pub vpc: Spanned<String>,
    /// The accepter (`PeerVpcId`; its owner and region are `PeerOwnerId` and
    /// `PeerRegion`).
    pub peer_vpc: Spanned<String>,
    /// `"active"`, `"pending-acceptance"` or `"deleted"`; omitted: active between VPCs
    /// of one owner, pending acceptance across accounts.
    #[serde(default)]
    pub status: Option<Spanned<String>>,
}

/// `[[transit_gateway]]` (`CreateTransitGateway`; the `enable`/`disable` keys are its
/// `Options`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTransitGateway {
    pub name: Spanned<String>,
    /// The owning account; omitted: [`crate::DEFAULT_ACCOUNT`].
    #[serde(default)]
    pub owner_id: Option<Spanned<String>>,
    /// Its region; omitted: [`crate::DEFAULT_REGION`].
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub amazon_side_asn: Option<Spanned<i64>>,
    /// `"enable"` (the default) or `"disable"`.
    #[serde(default)]
    pub default_route_table_association: Option<Spanned<String>>,
    /// `"enable"` (the default) or `"disable"`.
    #[serde(default)]
    pub default_route_table_propagation: Option<Spanned<String>>,
    /// `"enable"` or `"disable"` (the default).
    #[serde(default)]
    pub auto_accept_shared_attachments: Option<Spanned<String>>,
    /// `"enable"` or `"disable"` (the default).
    #[serde(default)]
    pub multicast_support: Option<Spanned<String>>,
    /// `Description`, at most 255 characters.
    #[serde(default)]
    pub description: Option<Spanned<String>>,
}

/// `[[transit_gateway_vpc_attachment]]` (`CreateTransitGatewayVpcAttachment`, and
/// `AcceptTransitGatewayVpcAttachment` when `status` is `"available"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTgwVpcAttachment {
    pub name: Spanned<String>,
    pub transit_gateway: Spanned<String>,
    pub vpc: Spanned<String>,
    /// Subnets of the VPC, one per availability zone at most (`SubnetIds`).
    pub subnets: Spanned<Vec<Spanned<String>>>,
    /// `"enable"` or `"disable"` (the default).
    #[serde(default)]
    pub appliance_mode_support: Option<Spanned<String>>,
    /// `"available"`, `"pending-acceptance"` or `"deleted"`.
    #[serde(default)]
    pub status: Option<Spanned<String>>,
    /// `"disable"`: not associated with its gateway's default route table by default
    /// (the gateway's `DefaultRouteTableAssociation`, declined for this attachment);
    /// `"enable"`, the default, follows the gateway.
    #[serde(default)]
    pub default_route_table_association: Option<Spanned<String>>,
    /// `"disable"`: not propagating into its gateway's default route table by default;
    /// `"enable"`, the default, follows the gateway.
    #[serde(default)]
    pub default_route_table_propagation: Option<Spanned<String>>,
}

/// `[[transit_gateway_peering_attachment]]` (`CreateTransitGatewayPeeringAttachment`,
/// and `AcceptTransitGatewayPeeringAttachment` when `status` is `"available"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTgwPeeringAttachment {
    pub name: Spanned<String>,
    /// The requester (`TransitGatewayId`).
    pub transit_gateway: Spanned<String>,
    /// The accepter (`PeerTransitGatewayId`; its owner and region are `PeerAccountId`
    /// and `PeerRegion`).
    pub peer_transit_gateway: Spanned<String>,
    /// `"available"`, `"pending-acceptance"` or `"deleted"`.
    #[serde(default)]
    pub status: Option<Spanned<String>>,
}

/// `[[transit_gateway_route_table]]` (`CreateTransitGatewayRouteTable`, with
/// `AssociateTransitGatewayRouteTable`, `EnableTransitGatewayRouteTablePropagation` and
/// `CreateTransitGatewayRoute`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTgwRouteTable {
    pub name: Spanned<String>,
    pub transit_gateway: Spanned<String>,
    /// `true` makes it the gateway's default route table.
    #[serde(default)]
    pub default: Option<Spanned<bool>>,
    /// Attachments (VPC or peering) associated with it.
    #[serde(default)]
    pub associations: Vec<Spanned<String>>,
    /// VPC attachments propagating into it.
    #[serde(default)]
    pub propagations: Vec<Spanned<String>>,
    /// Static routes.
    #[serde(default)]
    pub route: Vec<Spanned<RawTgwRoute>>,
}

/// One static route of a transit gateway route table: a destination and exactly one of
/// `transit_gateway_attachment` and `blackhole = true` (`CreateTransitGatewayRoute`'s
/// `TransitGatewayAttachmentId` and `Blackhole`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTgwRoute {
    pub destination: Spanned<String>,
    #[serde(default)]
    pub transit_gateway_attachment: Option<Spanned<String>>,
    #[serde(default)]
    pub blackhole: Option<Spanned<bool>>,
}

/// `[[transit_gateway_multicast_domain]]` (`CreateTransitGatewayMulticastDomain`, with
/// `AssociateTransitGatewayMulticastDomain`, `RegisterTransitGatewayMulticastGroupMembers`
/// and `RegisterTransitGatewayMulticastGroupSources`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMulticastDomain {
    pub name: Spanned<String>,
    pub transit_gateway: Spanned<String>,
    /// `"enable"` or `"disable"` (the default).
    #[serde(default)]
    pub igmpv2_support: Option<Spanned<String>>,
    #[serde(default)]
    pub associations: Vec<Spanned<RawMulticastAssociation>>,
    #[serde(default)]
    pub group_members: Vec<Spanned<RawMulticastGroupEntry>>,
    #[serde(default)]
    pub group_sources: Vec<Spanned<RawMulticastGroupEntry>>,
}

/// One association of a multicast domain: subnets of a VPC attachment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMulticastAssociation {
    pub transit_gateway_attachment: Spanned<String>,
    pub subnets: Spanned<Vec<Spanned<String>>>,
}

/// One static group member or source: a group address and a network interface
/// (`instance/ethN`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMulticastGroupEntry {
    pub group_ip_address: Spanned<String>,
    pub network_interface: Spanned<String>,
}

/// `[[resource_share]]` (AWS RAM's `CreateResourceShare`): transit gateways shared with
/// accounts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawResourceShare {
    pub name: Spanned<String>,
    /// Transit gateways, by name (`ResourceArns`).
    #[serde(default)]
    pub resources: Vec<Spanned<String>>,
    /// Account IDs (`Principals`).
    #[serde(default)]
    pub principals: Vec<Spanned<String>>,
}

/// `[limits]`: the sizes of the dataplane's bounded tables; every key optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    /// Tracked flows per network interface.
    #[serde(default)]
    pub conntrack_per_eni: Option<Spanned<i64>>,
    /// Translations per NAT gateway.
    #[serde(default)]
    pub nat_per_gateway: Option<Spanned<i64>>,
    /// Fragmented datagrams remembered for their later fragments.
    #[serde(default)]
    pub fragments: Option<Spanned<i64>>,
    /// Distinct records per flow log per aggregation interval.
    #[serde(default)]
    pub flow_log_records: Option<Spanned<i64>>,
}

/// `[[aws_service]]`: an emulated AWS service (`com.amazonaws.<region>.<name>`), whose
/// servers are internet hosts inside `cidrs`, its AWS-managed prefix list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAwsService {
    pub name: Spanned<String>,
    pub cidrs: Vec<Spanned<String>>,
    /// Default: the default region.
    #[serde(default)]
    pub region: Option<Spanned<String>>,
}

/// `[[vpc_endpoint]]` (`CreateVpcEndpoint`): a gateway endpoint of `vpc` to
/// `service_name`, routed to from `route_tables`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpcEndpoint {
    pub name: Spanned<String>,
    pub vpc: Spanned<String>,
    pub service_name: Spanned<String>,
    /// `Gateway` (the default) or `Interface` (refused: not built).
    #[serde(default)]
    pub vpc_endpoint_type: Option<Spanned<String>>,
    #[serde(default)]
    pub route_tables: Vec<Spanned<String>>,
}
