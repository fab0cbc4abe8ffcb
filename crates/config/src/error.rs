//! Configuration errors. Every error found in a file names the file, line and column,
//! and the field path (`subnet[2].cidr`), e.g.
//! `config/x.toml:12:8: subnet[2].cidr 10.1.0.0/24 is outside vpc "main" (10.0.0.0/16)`.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;

use ipnet::Ipv4Net;

use crate::security::Protocol;

/// Loading a configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {error}")]
    Read {
        /// The path as given.
        path: String,
        /// Why reading failed (in the message, not chained as a source).
        error: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a value of the wrong type, or
    /// fails validation. At least one diagnostic, in file order.
    #[error("{}", DisplayAll(.0))]
    Invalid(Vec<Diagnostic>),
}

impl ConfigError {
    /// The individual problems (empty for a read error).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid(d) => d,
        }
    }
}

struct DisplayAll<'a>(&'a [Diagnostic]);

impl fmt::Display for DisplayAll<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// One problem at one place of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name as given to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field path, e.g. `subnet[2].cidr`; empty when the problem is the document.
    pub field: String,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{} ", self.field)?;
        }
        write!(f, "{}", self.problem)
    }
}

/// What is wrong with one field. Messages continue the field path as a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A DHCP option set, private hosted zone or DNS name (see `validate/dns.rs`).
    #[error(transparent)]
    Dns(#[from] crate::DnsProblem),
    /// A problem with an emulated AWS service, a VPC endpoint or a prefix list
    /// reference (`endpoints.rs`).
    #[error(transparent)]
    Endpoint(#[from] crate::EndpointProblem),
    /// A problem with a VPN connection or a customer gateway's site (`vpn.rs`).
    #[error(transparent)]
    Vpn(#[from] crate::VpnProblem),
    /// A multicast group with more members than the dataplane carries.
    #[error(
        "group {0} has more than {max} members: vpcd carries a group to at most {max} interfaces",
        max = crate::MAX_GROUP_MEMBERS
    )]
    TooManyGroupMembers(Ipv4Addr),
    /// A `[tags]` entry with an empty resource ID.
    #[error("the resource ID is empty")]
    EmptyTagResource,
    /// A resource with more tags than AWS allows.
    #[error("has {count} tags; AWS allows at most {max}", max = crate::MAX_TAGS_PER_RESOURCE)]
    TooManyTags {
        /// How many were written.
        count: usize,
    },
    /// A tag key that is empty or too long.
    #[error("tag key {0:?} must be 1 to {max} characters", max = crate::MAX_TAG_KEY_LEN)]
    BadTagKey(String),
    /// A tag key with AWS's reserved prefix.
    #[error("tag key {0:?} starts with \"aws:\", which AWS reserves for itself")]
    ReservedTagKey(String),
    /// A tag value that is too long.
    #[error("tag value has {length} characters; AWS allows at most {max}", max = crate::MAX_TAG_VALUE_LEN)]
    TagValueTooLong {
        /// Its length in characters.
        length: usize,
    },
    /// Not TOML, an unknown key, a missing key or a value of the wrong type.
    #[error("{0}")]
    Syntax(String),
    /// A name used twice among resources of one kind.
    #[error("{name:?} is already the name of {kind} {index}")]
    DuplicateName {
        /// The repeated name.
        name: String,
        /// The kind of resource ("vpc", "subnet", ...).
        kind: &'static str,
        /// The earlier resource's index.
        index: usize,
    },
    /// A name with characters that cannot name a namespace or be shown safely.
    #[error(
        "{0:?} is not a valid name (1 to 48 characters: letters, digits, '-', '_' and '.', starting with a letter or digit)"
    )]
    BadName(String),
    /// Not an IPv4 CIDR.
    #[error("{0:?} is not an IPv4 CIDR block (like 10.0.0.0/16)")]
    BadCidr(String),
    /// A CIDR with host bits set.
    #[error("{given} is not canonical: host bits are set (did you mean {canonical}?)")]
    NonCanonicalCidr {
        /// As written.
        given: String,
        /// With the host bits cleared.
        canonical: Ipv4Net,
    },
    /// A VPC or subnet block outside AWS's size range.
    #[error("{cidr} has prefix length /{}; AWS allows /16 to /28", .cidr.prefix_len())]
    PrefixOutOfRange {
        /// The block.
        cidr: Ipv4Net,
    },
    /// A VPC block in a range that is not unicast host space.
    #[error("{cidr} is not usable for a VPC ({why})")]
    UnusableVpcRange {
        /// The block.
        cidr: Ipv4Net,
        /// Which special range it falls in.
        why: &'static str,
    },
    /// More than AWS's five CIDR blocks on a VPC.
    #[error("has {count} CIDR blocks in all; AWS allows at most 5 per VPC")]
    TooManyVpcCidrs {
        /// Primary plus secondary blocks.
        count: usize,
    },
    /// A VPC's blocks overlap each other.
    #[error("{cidr} overlaps the VPC's CIDR block {other}")]
    VpcCidrOverlap {
        /// The later block.
        cidr: Ipv4Net,
        /// The earlier block it overlaps.
        other: Ipv4Net,
    },
    /// An `owner_id` or a principal that is not an AWS account ID.
    #[error("{0:?} is not an AWS account ID (12 digits, like \"123456789012\")")]
    BadAccountId(String),
    /// A `region` that does not look like an AWS region name.
    #[error(
        "{0:?} is not an AWS region name (lowercase words and a number joined by dashes, like \"us-east-1\", \"eu-west-1\" or \"us-gov-west-1\", or vpcd's own \"local-1\", \"local-2\", ...)"
    )]
    BadRegion(String),
    /// A reference to a VPC that does not exist.
    #[error("{0:?} is not a declared vpc")]
    UnknownVpc(String),
    /// A reference to a subnet that does not exist.
    #[error("{0:?} is not a declared subnet")]
    UnknownSubnet(String),
    /// A reference to an instance that does not exist.
    #[error("{0:?} is not a declared instance")]
    UnknownInstance(String),
    /// A reference to a network interface that does not exist.
    #[error("{0:?} is not a network interface (write instance/ethN, e.g. \"fw/eth1\")")]
    UnknownNetworkInterface(String),
    /// A subnet outside all of its VPC's blocks.
    #[error("{cidr} is outside vpc {vpc:?} ({vpc_cidrs})")]
    SubnetOutsideVpc {
        /// The subnet block.
        cidr: Ipv4Net,
        /// The VPC's name.
        vpc: String,
        /// The VPC's blocks, comma separated.
        vpc_cidrs: String,
    },
    /// Two subnets of one VPC overlap.
    #[error("{cidr} overlaps subnet {other:?} ({other_cidr})")]
    SubnetOverlap {
        /// This subnet's block.
        cidr: Ipv4Net,
        /// The other subnet's name.
        other: String,
        /// The other subnet's block.
        other_cidr: Ipv4Net,
    },
    /// An empty availability zone name.
    #[error("must name an availability zone")]
    EmptyAz,
    /// Two main route tables for one VPC.
    #[error("vpc {vpc:?} already has main route table {other:?}")]
    SecondMainTable {
        /// The VPC.
        vpc: String,
        /// The first main table.
        other: String,
    },
    /// A subnet associated with a route table or network ACL of another VPC.
    #[error("subnet {subnet:?} is in vpc {subnet_vpc:?}, the {kind} in vpc {owner_vpc:?}")]
    AssociationAcrossVpcs {
        /// What the subnet is associated with ("route table", "network ACL").
        kind: &'static str,
        /// The subnet.
        subnet: String,
        /// The subnet's VPC.
        subnet_vpc: String,
        /// The VPC of the route table or network ACL.
        owner_vpc: String,
    },
    /// A subnet explicitly associated with two route tables, or with two network ACLs.
    #[error("subnet {subnet:?} is already associated with {kind} {other:?}")]
    DoubleAssociation {
        /// What the subnet is associated with ("route table", "network ACL").
        kind: &'static str,
        /// The subnet.
        subnet: String,
        /// The first route table or network ACL.
        other: String,
    },
    /// A route with no target key or with several.
    #[error(
        "must have exactly one target: instance, network_interface, internet_gateway, nat_gateway, vpc_peering_connection or transit_gateway (found {found})"
    )]
    RouteTargetCount {
        /// How many target keys were given.
        found: usize,
    },
    /// Two routes with the same destination in one table.
    #[error("{destination} is already the destination of route {index}")]
    DuplicateRoute {
        /// The destination.
        destination: Ipv4Net,
        /// The earlier route's index.
        index: usize,
    },
    /// A route whose destination equals a VPC block (so it replaces the target of the
    /// local route) with a target other than a network interface.
    #[error(
        "{destination} is the destination of the VPC's local route: only a network interface (an instance or network_interface target) can replace the local route's target"
    )]
    ConflictsWithLocal {
        /// The destination.
        destination: Ipv4Net,
    },
    /// A route whose destination is, or lies inside, the block AWS reserves for the
    /// VPC's own services ([`crate::addressing::VPC_SERVICES`]).
    #[error(
        "{destination} is inside {services}, which AWS reserves for the VPC's own services (DNS, instance metadata, time): no route may send it anywhere",
        services = crate::addressing::VPC_SERVICES
    )]
    RouteToVpcServices {
        /// The destination.
        destination: Ipv4Net,
    },
    /// An internet gateway associated with a second route table (edge association).
    #[error(
        "internet gateway {igw:?} is already associated with route table {other:?}; an internet gateway has at most one gateway route table"
    )]
    SecondGatewayRouteTable {
        /// The internet gateway.
        igw: String,
        /// The route table it is associated with first.
        other: String,
    },
    /// A route of a gateway route table whose target is not a network interface.
    #[error(
        "is not allowed in a gateway route table (the table is associated with internet gateway {igw:?}): its routes may only target a network interface (instance or network_interface)"
    )]
    GatewayRouteTableTarget {
        /// The first internet gateway the table is associated with.
        igw: String,
    },
    /// A route of a gateway route table to a destination outside the VPC's blocks.
    #[error(
        "{destination} is outside vpc {vpc:?} ({vpc_cidrs}): a gateway route table (the table is associated with internet gateway {igw:?}) may only route destinations inside its VPC's CIDR blocks"
    )]
    GatewayRouteTableDestination {
        /// The destination.
        destination: Ipv4Net,
        /// The table's VPC.
        vpc: String,
        /// The VPC's blocks, comma separated.
        vpc_cidrs: String,
        /// The first internet gateway the table is associated with.
        igw: String,
    },
    /// A route more specific than the local route that is not middlebox routing.
    #[error(
        "{destination} is more specific than the local route {local}; AWS allows that only for a whole subnet's CIDR with a network interface or NAT gateway target"
    )]
    MoreSpecificThanLocal {
        /// The destination.
        destination: Ipv4Net,
        /// The local route it falls in.
        local: Ipv4Net,
    },
    /// A route target in another VPC.
    #[error("{target} is in vpc {target_vpc:?}, the route table in vpc {table_vpc:?}")]
    TargetInOtherVpc {
        /// The target as written.
        target: String,
        /// The target's VPC.
        target_vpc: String,
        /// The table's VPC.
        table_vpc: String,
    },
    /// An `instance` route target whose instance has several interfaces.
    #[error(
        "instance {instance:?} has {count} network interfaces; name one with network_interface = \"{instance}/ethN\""
    )]
    AmbiguousInstanceTarget {
        /// The instance.
        instance: String,
        /// How many interfaces it has.
        count: usize,
    },
    /// Not an IPv4 address.
    #[error("{0:?} is not an IPv4 address")]
    BadAddress(String),
    /// A private IP outside the ENI's subnet.
    #[error("{ip} is outside subnet {subnet:?} ({cidr})")]
    AddressOutsideSubnet {
        /// The address.
        ip: Ipv4Addr,
        /// The subnet's name.
        subnet: String,
        /// The subnet's block.
        cidr: Ipv4Net,
    },
    /// A private IP that the subnet reserves.
    #[error("{ip} is {what} of subnet {subnet:?} ({cidr}) and cannot be assigned")]
    ReservedAddress {
        /// The address.
        ip: Ipv4Addr,
        /// Which reserved address it is.
        what: &'static str,
        /// The subnet's name.
        subnet: String,
        /// The subnet's block.
        cidr: Ipv4Net,
    },
    /// A private IP already assigned in the VPC.
    #[error("{ip} is already assigned to {owner}")]
    AddressInUse {
        /// The address.
        ip: Ipv4Addr,
        /// The ENI that has it (`instance/ethN`).
        owner: String,
    },
    /// No free address left to allocate.
    #[error("subnet {subnet:?} ({cidr}) has no free address left to allocate")]
    SubnetFull {
        /// The subnet's name.
        subnet: String,
        /// The subnet's block.
        cidr: Ipv4Net,
    },
    /// An instance's interfaces in different availability zones.
    #[error(
        "subnet {subnet:?} is in availability zone {az:?}, the instance's eth0 in {primary_az:?}"
    )]
    EniInOtherAz {
        /// The interface's subnet.
        subnet: String,
        /// That subnet's zone.
        az: String,
        /// The primary interface's zone.
        primary_az: String,
    },
    /// An instance's launch attribute (`image_id`, `instance_type`, `launch_time`, ...)
    /// that is not what AWS accepts.
    #[error("{value:?} is not {expected}")]
    BadInstanceAttribute {
        /// The value written.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// More interfaces than the daemon supports per instance.
    #[error("has {count} network interfaces; at most {max} are supported")]
    TooManyEnis {
        /// How many were declared (eth0 included).
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A name used twice among resources of one kind in one VPC.
    #[error("{name:?} is already the name of {kind} {index} in vpc {vpc:?}")]
    DuplicateNameInVpc {
        /// The repeated name.
        name: String,
        /// The kind of resource ("security_group", "network_acl").
        kind: &'static str,
        /// The earlier resource's index.
        index: usize,
        /// The VPC both are in.
        vpc: String,
    },
    /// A protocol that is neither a known name nor a number 0..255.
    #[error(
        "{0:?} is not a protocol (write \"tcp\", \"udp\", \"icmp\", \"all\" or \"-1\", or a protocol number from 0 to 255)"
    )]
    BadProtocol(String),
    /// A port outside 0..65535.
    #[error("bad port range: {0} is not a port (0 to 65535)")]
    PortOutOfRange(i64),
    /// `from_port` greater than `to_port`.
    #[error("bad port range {from}-{to}: from_port is greater than to_port")]
    BadPortRange {
        /// `from_port`.
        from: u16,
        /// `to_port`.
        to: u16,
    },
    /// `from_port` without `to_port` or the other way round.
    #[error("is given without {missing}: write both from_port and to_port, or port = N")]
    HalfPortRange {
        /// The key that is missing.
        missing: &'static str,
    },
    /// `port` together with `from_port` or `to_port`.
    #[error("cannot be combined with from_port and to_port: write one or the other")]
    PortAndRange,
    /// Port keys on a rule whose protocol has no ports.
    #[error("is only for tcp and udp rules; this rule's protocol is {protocol}")]
    PortsNotAllowed {
        /// The rule's protocol.
        protocol: Protocol,
    },
    /// ICMP keys on a rule whose protocol is not ICMP.
    #[error("is only for icmp rules; this rule's protocol is {protocol}")]
    IcmpNotAllowed {
        /// The rule's protocol.
        protocol: Protocol,
    },
    /// An ICMP type or code outside -1..255.
    #[error("{0} is not an ICMP type or code (0 to 255, or -1 for every one)")]
    IcmpOutOfRange(i64),
    /// `icmp_code` without a specific `icmp_type`.
    #[error("needs a specific icmp_type (a code only means something within one type)")]
    IcmpCodeWithoutType,
    /// A security group rule with no peer or with both.
    #[error("must have exactly one peer: cidr, security_group or prefix_list_id (found {found})")]
    SgPeerCount {
        /// How many peer keys were given.
        found: usize,
    },
    /// A reference to a security group that the VPC it is looked up in does not have.
    #[error("{name:?} is not a security group of vpc {vpc:?}")]
    UnknownSecurityGroup {
        /// The name as written.
        name: String,
        /// The VPC it was looked up in.
        vpc: String,
    },
    /// A reference to a security group of another VPC.
    #[error("{name:?} is a security group of vpc {group_vpc:?}, not of vpc {vpc:?}")]
    SecurityGroupInOtherVpc {
        /// The name as written.
        name: String,
        /// The VPC that has a group of that name.
        group_vpc: String,
        /// The VPC it was looked up in.
        vpc: String,
    },
    /// A rule's `vpc` without a `security_group` peer.
    #[error("is only for a security_group peer: it names the VPC of the referenced group")]
    SgVpcWithoutGroup,
    /// A rule referencing a group of a VPC that is not peered with the rule's VPC.
    #[error(
        "vpc {vpc:?} is not peered with vpc {own_vpc:?} (the security group's VPC): a rule may reference a group of its own VPC or of a VPC peered with it"
    )]
    SgVpcNotPeered {
        /// The VPC named.
        vpc: String,
        /// The rule's VPC.
        own_vpc: String,
    },
    /// A rule referencing a group of a peer VPC in another region.
    #[error(
        "vpc {vpc:?} is in region {region:?}, vpc {own_vpc:?} (the security group's VPC) in {own_region:?}: a rule may reference a group of a peer VPC only in the same region"
    )]
    SgPeerVpcInOtherRegion {
        /// The peer VPC.
        vpc: String,
        /// Its region.
        region: String,
        /// The rule's VPC.
        own_vpc: String,
        /// Its region.
        own_region: String,
    },
    /// More rules in one direction of a security group than AWS allows.
    #[error("has {count} rules; AWS allows at most {max} per direction per security group")]
    TooManySgRules {
        /// How many were written.
        count: usize,
        /// The quota.
        max: usize,
    },
    /// A description longer than AWS allows.
    #[error("is {len} characters long; AWS allows at most {max}")]
    DescriptionTooLong {
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An interface with an empty `security_groups` list.
    #[error("must name at least one security group (omit the key for the VPC's default group)")]
    NoSecurityGroups,
    /// A group named twice on one interface.
    #[error("{name:?} is already security_groups[{index}]")]
    DuplicateSecurityGroup {
        /// The group.
        name: String,
        /// The earlier position.
        index: usize,
    },
    /// More groups on an interface than AWS allows.
    #[error("has {count} security groups; AWS allows at most {max} per network interface")]
    TooManySecurityGroups {
        /// How many were named.
        count: usize,
        /// The quota.
        max: usize,
    },
    /// A connection-tracking timeout outside AWS's range.
    #[error("{value} is out of range: AWS allows {min} to {max} seconds")]
    TimeoutOutOfRange {
        /// As written.
        value: i64,
        /// The lowest allowed value.
        min: u32,
        /// The highest allowed value.
        max: u32,
    },
    /// A `[limits]` value outside what vpcd allows.
    #[error("{value} is out of range: vpcd allows {min} to {max} {what}")]
    LimitOutOfRange {
        /// As written.
        value: i64,
        /// The lowest allowed value.
        min: usize,
        /// The highest allowed value.
        max: usize,
        /// What the limit counts, e.g. "tracked flows per network interface".
        what: &'static str,
    },
    /// A NACL rule number outside 1..32766.
    #[error("{0} is not a NACL rule number (1 to 32766; 32767 is the implicit deny rule `*`)")]
    NaclRuleNumberOutOfRange(i64),
    /// Two NACL rules of one direction with the same number.
    #[error("duplicate NACL rule number {number}: {direction}[{index}] has it already")]
    DuplicateNaclRule {
        /// The number.
        number: u16,
        /// "ingress" or "egress".
        direction: &'static str,
        /// The earlier rule's index.
        index: usize,
    },
    /// Neither allow nor deny.
    #[error("{0:?} is not a rule action (write \"allow\" or \"deny\")")]
    BadAction(String),
    /// More rules in one direction of a NACL than AWS allows.
    #[error("has {count} rules; AWS allows at most {max} per direction per network ACL")]
    TooManyNaclRules {
        /// How many were written.
        count: usize,
        /// The quota.
        max: usize,
    },
    /// A flow log with no resource key or with several.
    #[error("must have exactly one resource: vpc, subnet or network_interface (found {found})")]
    FlowLogResourceCount {
        /// How many resource keys were given.
        found: usize,
    },
    /// Not ACCEPT, REJECT or ALL.
    #[error("{0:?} is not a traffic type (write \"ACCEPT\", \"REJECT\" or \"ALL\")")]
    BadTrafficType(String),
    /// An empty flow log destination.
    #[error("must name a file")]
    EmptyLogDestination,
    /// A `log_destination_type` other than `cloud-watch-logs` or `s3`.
    #[error("{0:?} is not a log destination type (write \"cloud-watch-logs\" or \"s3\")")]
    BadLogDestinationType(String),
    /// `log_destination_type` without `log_destination_arn`, or the other way round,
    /// or `deliver_logs_permission_arn` without them.
    #[error(
        "log_destination_type and log_destination_arn go together (deliver_logs_permission_arn needs both)"
    )]
    LogDestinationTypeWithoutArn,
    /// An aggregation interval other than 60 or 600.
    #[error("{0} is not an aggregation interval (AWS allows 60 or 600 seconds)")]
    BadAggregationInterval(i64),
    /// A log format with no field.
    #[error("must have at least one field, like \"${{version}} ${{srcaddr}}\"")]
    EmptyLogFormat,
    /// A part of a log format that is not `${field}`.
    #[error("{0:?} is not a field: write ${{field}} fields separated by single spaces")]
    BadLogFormat(String),
    /// A `${field}` that flow logs do not have.
    #[error(
        "{0:?} is not a flow log field (fields are e.g. version, interface-id, srcaddr, dstaddr, srcport, dstport, protocol, action, vpc-id, tcp-flags, flow-direction; see docs/config.md)"
    )]
    UnknownFlowLogField(String),
    /// A field written twice in one format.
    #[error("${{{0}}} appears twice")]
    RepeatedFlowLogField(String),
    /// A reference to an internet gateway that does not exist.
    #[error("{0:?} is not a declared internet_gateway")]
    UnknownInternetGateway(String),
    /// A reference to a NAT gateway that does not exist.
    #[error("{0:?} is not a declared nat_gateway")]
    UnknownNatGateway(String),
    /// A reference to an Elastic IP that does not exist.
    #[error("{0:?} is not the address or name of a declared elastic_ip")]
    UnknownElasticIp(String),
    /// A second internet gateway attached to one VPC.
    #[error("vpc {vpc:?} already has internet gateway {other:?} attached; AWS allows one")]
    SecondInternetGateway {
        /// The VPC.
        vpc: String,
        /// The internet gateway attached first.
        other: String,
    },
    /// A route to, or an edge association with, an internet gateway that is not
    /// attached to the route table's VPC.
    #[error("internet gateway {igw:?} is not attached to vpc {vpc:?} ({})", attachment(.attached))]
    InternetGatewayNotAttached {
        /// The internet gateway.
        igw: String,
        /// The route table's VPC.
        vpc: String,
        /// The VPC it is attached to, if any.
        attached: Option<String>,
    },
    /// A public address outside the documentation ranges (or one vpcd keeps for itself).
    #[error(
        "{0} cannot be a public address: vpcd's public addresses are 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737), without each range's first and last address and without 192.0.2.1 (the internet's router)"
    )]
    NotPublicAddress(Ipv4Addr),
    /// A public address used twice (Elastic IPs, public IPs and internet hosts).
    #[error("{ip} is already used by {owner}")]
    PublicAddressInUse {
        /// The address.
        ip: Ipv4Addr,
        /// What has it, e.g. `elastic_ip "web-eip"`, `web/eth0 (public_ip)`.
        owner: String,
    },
    /// An Elastic IP with both `instance` and `network_interface`.
    #[error(
        "has both instance and network_interface: an Elastic IP is associated with one network interface at most"
    )]
    ElasticIpTwoTargets,
    /// A second Elastic IP associated with one network interface.
    #[error("{eni} already has elastic_ip {eip:?}; a network interface has one Elastic IP at most")]
    EniHasElasticIp {
        /// The interface (`instance/ethN`).
        eni: String,
        /// The Elastic IP associated with it first.
        eip: String,
    },
    /// A NAT gateway naming an Elastic IP that is associated already.
    #[error("elastic_ip {eip:?} is already associated with {by}")]
    ElasticIpTaken {
        /// The Elastic IP's name.
        eip: String,
        /// What has it: an interface (`web/eth0`) or `nat_gateway "nat-a"`.
        by: String,
    },
    /// Neither public nor private.
    #[error("{0:?} is not a connectivity type (write \"public\" or \"private\")")]
    BadConnectivity(String),
    /// A public NAT gateway without Elastic IPs or with more than 8.
    #[error(
        "names {count} Elastic IPs; a public NAT gateway has 1 to 8 (or set connectivity = \"private\")"
    )]
    NatElasticIpCount {
        /// How many were named.
        count: usize,
    },
    /// Elastic IPs on a private NAT gateway.
    #[error("must be empty: a private NAT gateway has no Elastic IP")]
    ElasticIpsOnPrivateNat,
    /// A public NAT gateway whose private addresses do not pair with its Elastic IPs.
    #[error(
        "has {count} addresses; a public NAT gateway has exactly one per Elastic IP ({eips}), or omit the key to have them allocated"
    )]
    NatAddressesPerElasticIp {
        /// How many private addresses were written.
        count: usize,
        /// How many Elastic IPs it names.
        eips: usize,
    },
    /// A private NAT gateway without addresses or with more than 8.
    #[error(
        "has {count} addresses; a private NAT gateway has 1 to 8 (omit the key to have one allocated)"
    )]
    PrivateNatAddressCount {
        /// How many were written.
        count: usize,
    },
    /// A NAT gateway's `source_ports` that is not a range inside 1024-65535.
    #[error(
        "{0:?} is not a source port range: write \"FROM-TO\" with 1024 <= FROM <= TO <= 65535, or one port"
    )]
    BadSourcePorts(String),
    /// A NAT gateway state other than available and deleted.
    #[error("{0:?} is not a NAT gateway state (write \"available\" or \"deleted\")")]
    BadNatGatewayState(String),
    /// Elastic IPs on a deleted NAT gateway.
    #[error(
        "must be empty: a deleted NAT gateway has no Elastic IP (deleting it disassociated them)"
    )]
    ElasticIpsOnDeletedNat,
    /// A deleted NAT gateway without addresses or with more than 8.
    #[error(
        "has {count} addresses; a deleted NAT gateway keeps 1 to 8 (omit the key to have one allocated)"
    )]
    DeletedNatAddressCount {
        /// How many were written.
        count: usize,
    },
    /// A route state other than active and blackhole.
    #[error("{0:?} is not a route state (write \"active\" or \"blackhole\")")]
    BadRouteState(String),
    /// A written route state that is not the one its target gives the route.
    #[error("is {written:?}, but {why}")]
    RouteStateMismatch {
        /// The state written.
        written: &'static str,
        /// Why the route has the other state, e.g. `NAT gateway "nat-a" is deleted`.
        why: String,
    },
    /// A reference to a VPC peering connection that does not exist.
    #[error("{0:?} is not a declared vpc_peering_connection")]
    UnknownVpcPeeringConnection(String),
    /// A VPC peering connection from a VPC to itself.
    #[error("{0:?} is the requester vpc too: a VPC cannot be peered with itself")]
    PeeredWithItself(String),
    /// A second VPC peering connection between two VPCs.
    #[error(
        "vpc {vpc:?} and vpc {peer_vpc:?} are already peered by vpc_peering_connection {other:?}; AWS allows one peering connection between two VPCs"
    )]
    SecondPeering {
        /// The requester.
        vpc: String,
        /// The accepter.
        peer_vpc: String,
        /// The connection declared first.
        other: String,
    },
    /// VPCs whose blocks overlap, peered.
    #[error(
        "{peer_cidr} of vpc {peer_vpc:?} overlaps {cidr} of vpc {vpc:?}: VPCs with matching or overlapping IPv4 CIDR blocks cannot be peered"
    )]
    PeeringCidrOverlap {
        /// The requester.
        vpc: String,
        /// The requester's block.
        cidr: Ipv4Net,
        /// The accepter.
        peer_vpc: String,
        /// The accepter's block that overlaps it.
        peer_cidr: Ipv4Net,
    },
    /// A peering connection's status that a configuration cannot give.
    #[error(
        "{0:?} is not a peering connection status (write \"active\", \"pending-acceptance\" or \"deleted\")"
    )]
    BadPeeringStatus(String),
    /// A route to a peering connection that does not have the table's VPC on a side.
    #[error(
        "vpc peering connection {pcx:?} joins vpc {vpc:?} and vpc {peer_vpc:?}, not vpc {table_vpc:?} of the route table"
    )]
    PeeringNotOfVpc {
        /// The connection.
        pcx: String,
        /// Its requester.
        vpc: String,
        /// Its accepter.
        peer_vpc: String,
        /// The table's VPC.
        table_vpc: String,
    },
    /// A reference to a transit gateway that does not exist.
    #[error("{0:?} is not a declared transit_gateway")]
    UnknownTransitGateway(String),
    /// A transit gateway option that is neither `enable` nor `disable`.
    #[error("{0:?} is not an option value (write \"enable\" or \"disable\")")]
    BadEnableDisable(String),
    /// A transit gateway ASN outside AWS's private ranges.
    #[error(
        "{0} is not an ASN AWS allows for a transit gateway: 64512 to 65534, or 4200000000 to 4294967294"
    )]
    BadAsn(i64),
    /// A name listed twice in one list.
    #[error("{name:?} is already {list}[{index}]")]
    DuplicateInList {
        /// The repeated entry.
        name: String,
        /// The list's key.
        list: &'static str,
        /// The earlier position.
        index: usize,
    },
    /// A VPC attachment without subnets.
    #[error(
        "must name at least one subnet of the VPC (one per availability zone the attachment serves)"
    )]
    NoAttachmentSubnets,
    /// Two subnets of one availability zone in a VPC attachment.
    #[error(
        "subnet {subnet:?} is in availability zone {az:?} like subnet {other:?}; a transit gateway attachment has one subnet per availability zone at most"
    )]
    SecondAttachmentSubnetInAz {
        /// The later subnet.
        subnet: String,
        /// Their zone.
        az: String,
        /// The earlier subnet.
        other: String,
    },
    /// A VPC attachment to a transit gateway of another region.
    #[error(
        "vpc {vpc:?} is in region {vpc_region:?}, transit gateway {tgw:?} in {tgw_region:?}: a transit gateway attaches VPCs of its own region (peer transit gateways across regions)"
    )]
    AttachmentInOtherRegion {
        /// The VPC.
        vpc: String,
        /// Its region.
        vpc_region: String,
        /// The transit gateway.
        tgw: String,
        /// Its region.
        tgw_region: String,
    },
    /// A second attachment of one VPC to one transit gateway.
    #[error(
        "vpc {vpc:?} is already attached to transit gateway {tgw:?} by transit_gateway_vpc_attachment {other:?}; a transit gateway has one attachment per VPC"
    )]
    SecondTgwVpcAttachment {
        /// The VPC.
        vpc: String,
        /// The transit gateway.
        tgw: String,
        /// The first attachment.
        other: String,
    },
    /// A VPC of another account attached to a transit gateway not shared with it.
    #[error(
        "transit gateway {tgw:?} belongs to account {owner}, vpc {vpc:?} to account {vpc_owner}: share the transit gateway with that account in a [[resource_share]] (resources = [{tgw:?}], principals = [\"{vpc_owner}\"])"
    )]
    TgwNotShared {
        /// The transit gateway.
        tgw: String,
        /// Its owner.
        owner: String,
        /// The VPC.
        vpc: String,
        /// The VPC's owner.
        vpc_owner: String,
    },
    /// An attachment's status that a configuration cannot give.
    #[error(
        "{0:?} is not an attachment status (write \"available\", \"pending-acceptance\" or \"deleted\")"
    )]
    BadAttachmentStatus(String),
    /// A deleted attachment named by an association or a propagation.
    #[error(
        "transit gateway attachment {0:?} is deleted: a deleted attachment has no associations or propagations"
    )]
    DeletedAttachment(String),
    /// An attachment's `"enable"` of a default its gateway has disabled.
    #[error(
        "is \"enable\", but transit gateway {tgw:?} has {key} disabled: an attachment can only decline its gateway's default (\"disable\")"
    )]
    AttachmentDefaultDisabled {
        /// `default_route_table_association` or `default_route_table_propagation`.
        key: &'static str,
        /// The transit gateway.
        tgw: String,
    },
    /// A transit gateway peering attachment from a gateway to itself.
    #[error(
        "{0:?} is the requester transit gateway too: a transit gateway cannot be peered with itself"
    )]
    TgwPeeredWithItself(String),
    /// A second peering attachment between two transit gateways.
    #[error(
        "transit gateway {tgw:?} and transit gateway {peer:?} are already peered by transit_gateway_peering_attachment {other:?}; AWS allows one peering attachment between two transit gateways"
    )]
    SecondTgwPeering {
        /// The requester.
        tgw: String,
        /// The accepter.
        peer: String,
        /// The attachment declared first.
        other: String,
    },
    /// A route to a transit gateway the table's VPC is not attached to.
    #[error(
        "vpc {vpc:?} of the route table has no attachment to transit gateway {tgw:?} (declare a [[transit_gateway_vpc_attachment]])"
    )]
    NoTgwAttachment {
        /// The transit gateway.
        tgw: String,
        /// The table's VPC.
        vpc: String,
    },
    /// A reference to a transit gateway attachment that does not exist.
    #[error(
        "{0:?} is not a declared transit gateway attachment (transit_gateway_vpc_attachment or transit_gateway_peering_attachment)"
    )]
    UnknownTgwAttachment(String),
    /// An attachment named by a route table or multicast domain of another gateway.
    #[error("{attachment:?} is an attachment of {on}, not of transit gateway {tgw:?}")]
    AttachmentNotOnTgw {
        /// The attachment.
        attachment: String,
        /// Its gateway or gateways: `transit gateway "a"`, or `transit gateways "a"
        /// and "b"` for a peering attachment.
        on: String,
        /// The gateway of the route table or multicast domain.
        tgw: String,
    },
    /// A second default route table of one transit gateway.
    #[error("transit gateway {tgw:?} already has default route table {other:?}")]
    SecondDefaultTgwRouteTable {
        /// The transit gateway.
        tgw: String,
        /// The first default table.
        other: String,
    },
    /// A default route table of a gateway whose default association and propagation
    /// are both disabled.
    #[error(
        "transit gateway {tgw:?} has default_route_table_association and default_route_table_propagation disabled: it has no default route table"
    )]
    DefaultTableWithoutDefaults {
        /// The transit gateway.
        tgw: String,
    },
    /// A declared route table with the name of a gateway's implicit default table.
    #[error(
        "{name:?} is the name of transit gateway {tgw:?}'s implicit default route table: declare that table with default = true, or choose another name"
    )]
    ImplicitTableNameTaken {
        /// The name.
        name: String,
        /// The transit gateway whose default table it would be.
        tgw: String,
    },
    /// A declared route table with the name of a VPC's implicit main table.
    #[error(
        "{name:?} is the name of vpc {vpc:?}'s implicit main route table: declare that table with main = true, or choose another name"
    )]
    ImplicitMainTableNameTaken {
        /// The name.
        name: String,
        /// The VPC whose main table it would be.
        vpc: String,
    },
    /// An attachment associated with a second route table of one gateway.
    #[error(
        "transit gateway attachment {attachment:?} is already associated with transit_gateway_route_table {other:?}; an attachment is associated with one route table of its transit gateway"
    )]
    SecondTgwAssociation {
        /// The attachment.
        attachment: String,
        /// The table it is associated with first.
        other: String,
    },
    /// A peering attachment listed as propagating.
    #[error(
        "{0:?} is a peering attachment: peering attachments propagate no routes (route to it with a static route)"
    )]
    PropagationFromPeering(String),
    /// A transit gateway route with no target or with both.
    #[error(
        "must have exactly one target: transit_gateway_attachment or blackhole = true (found {found})"
    )]
    TgwRouteTargetCount {
        /// How many target keys were given (`blackhole = false` counts as none).
        found: usize,
    },
    /// A multicast domain of a transit gateway without multicast support.
    #[error(
        "transit gateway {0:?} has no multicast support (set multicast_support = \"enable\" on it)"
    )]
    MulticastNotSupported(String),
    /// A peering attachment associated with a multicast domain.
    #[error(
        "{0:?} is a peering attachment: a multicast domain associates subnets of VPC attachments"
    )]
    MulticastPeeringAttachment(String),
    /// A multicast association without subnets.
    #[error("must name at least one subnet of the attachment")]
    NoMulticastSubnets,
    /// A multicast association naming a subnet the attachment is not in.
    #[error(
        "subnet {subnet:?} is not one of the subnets of transit gateway attachment {attachment:?}"
    )]
    SubnetNotInAttachment {
        /// The subnet.
        subnet: String,
        /// The attachment.
        attachment: String,
    },
    /// A subnet associated with a second multicast domain (or twice with one).
    #[error(
        "subnet {subnet:?} is already associated with transit_gateway_multicast_domain {other:?}; a subnet is associated with one multicast domain at most"
    )]
    SubnetInOtherMulticastDomain {
        /// The subnet.
        subnet: String,
        /// The domain it is associated with first.
        other: String,
    },
    /// A group address outside the multicast groups a domain may use.
    #[error(
        "{0} is not a multicast group address: use 224.0.0.0/4 outside 224.0.0.0/24 (local network control)"
    )]
    NotMulticastGroup(Ipv4Addr),
    /// A group member or source whose subnet is not associated with the domain.
    #[error(
        "{eni} is in subnet {subnet:?}, which is not associated with multicast domain {domain:?}"
    )]
    MemberSubnetNotAssociated {
        /// The interface (`instance/ethN`).
        eni: String,
        /// Its subnet.
        subnet: String,
        /// The domain.
        domain: String,
    },
    /// A group member or source registered twice.
    #[error("{eni} in group {group} is already {list}[{index}]")]
    DuplicateGroupEntry {
        /// The group.
        group: Ipv4Addr,
        /// The interface (`instance/ethN`).
        eni: String,
        /// `group_members` or `group_sources`.
        list: &'static str,
        /// The earlier entry.
        index: usize,
    },
    /// An internet host with the name of an instance: both are network namespaces.
    #[error(
        "{name:?} is already the name of instance {index}; internet hosts and instances are network namespaces and need distinct names"
    )]
    HostNameClash {
        /// The name.
        name: String,
        /// The instance's index.
        index: usize,
    },
    /// A reference to a VPN gateway that does not exist.
    #[error("{0:?} is not a declared vpn_gateway")]
    UnknownVpnGateway(String),
    /// A reference to a customer gateway that does not exist.
    #[error("{0:?} is not a declared customer_gateway")]
    UnknownCustomerGateway(String),
    /// A second VPN gateway attached to one VPC.
    #[error("vpc {vpc:?} already has VPN gateway {other:?} attached; AWS allows one")]
    SecondVpnGateway {
        /// The VPC.
        vpc: String,
        /// The VPN gateway attached first.
        other: String,
    },
    /// A route to, or a propagation from, a VPN gateway that is not attached to the
    /// route table's VPC.
    #[error("VPN gateway {vgw:?} is not attached to vpc {vpc:?} ({})", attachment(.attached))]
    VpnGatewayNotAttached {
        /// The VPN gateway.
        vgw: String,
        /// The route table's VPC.
        vpc: String,
        /// The VPC it is attached to, if any.
        attached: Option<String>,
    },
    /// A VPN gateway named twice in one table's `propagating_vgws`.
    #[error("VPN gateway {vgw:?} is already propagating_vgws[{index}]")]
    DuplicatePropagation {
        /// The VPN gateway.
        vgw: String,
        /// The earlier entry.
        index: usize,
    },
    /// A VPN or customer gateway type other than `ipsec.1`.
    #[error("type {0:?} is not supported; the only type is \"ipsec.1\"")]
    BadVpnType(String),
    /// An Amazon side ASN AWS refuses.
    #[error(
        "{0} is not a valid Amazon side ASN: use a private ASN (64512-65534 or 4200000000-4294967294) or a public one that is not reserved"
    )]
    BadAmazonSideAsn(i64),
    /// A customer gateway BGP ASN AWS refuses.
    #[error(
        "{0} is not a valid BGP ASN: use 1-4294967294, except 7224, 9059, 10124 and 17943, which AWS reserves"
    )]
    BadBgpAsn(i64),
}

/// How an internet gateway is attached, for [`Problem::InternetGatewayNotAttached`].
fn attachment(vpc: &Option<String>) -> String {
    match vpc {
        Some(v) => format!("it is attached to vpc {v:?}"),
        None => "it is detached".to_owned(),
    }
}

/// Turns byte spans into diagnostics for one source file.
pub(crate) struct Reporter<'a> {
    file: &'a str,
    source: &'a str,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(file: &'a str, source: &'a str) -> Self {
        Reporter {
            file,
            source,
            diagnostics: Vec::new(),
        }
    }

    /// Records `problem` for `field` at byte span `span`.
    pub(crate) fn report(
        &mut self,
        span: Range<usize>,
        field: impl Into<String>,
        problem: Problem,
    ) {
        let (line, column) = line_column(self.source, span.start);
        self.diagnostics.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            field: field.into(),
            problem,
        });
    }

    /// The source text.
    pub(crate) fn source(&self) -> &'a str {
        self.source
    }

    pub(crate) fn finish(mut self) -> Result<(), ConfigError> {
        if self.diagnostics.is_empty() {
            Ok(())
        } else {
            self.diagnostics.sort_by_key(|d| (d.line, d.column));
            Err(ConfigError::Invalid(self.diagnostics))
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `source`.
pub(crate) fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        // 'é' is two bytes: the '=' after "bé " is the 4th character of its line.
        assert_eq!(line_column(src, 10), (2, 4));
        // An offset inside 'é' counts as the character's start.
        assert_eq!(line_column(src, 8), (2, 2));
        assert_eq!(line_column(src, 999), (3, 1));
    }
}
