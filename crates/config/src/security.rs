//! The validated firewall and logging resources: security groups (stateful, per ENI),
//! network ACLs (stateless, per subnet), connection-tracking timeouts and flow logs.
//!
//! AWS's rules these types encode (VPC user guide: security-group-rules,
//! vpc-network-acls, flow-logs; EC2 guide: security-group-connection-tracking):
//! - A security group has allow rules only; the rules of all groups on an ENI are
//!   unioned. A rule's peer is a CIDR or another group (matched by its members' private
//!   IPs), of the rule's VPC or of a VPC peered with it in the same region. A new group has no inbound rules and one allow-all egress rule; a VPC's
//!   `default` group allows inbound from its own members and all egress.
//! - A network ACL has numbered allow and deny rules per direction (1..32766), evaluated
//!   lowest number first, first match wins, then an implicit deny (`*`). A VPC's
//!   `default` NACL allows everything; a custom NACL denies everything until rules are
//!   added.
//! - Idle timeouts per ENI: TCP established 60..432,000 s (default 432,000), UDP stream
//!   60..180 s (default 180), UDP one direction 30..60 s (default 30).

use ipnet::Ipv4Net;
use std::fmt;

use crate::topology::{EniId, SecurityGroupId, SubnetId, VpcId};

/// An IP protocol as a rule names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Every protocol (`"all"` or `"-1"` in the AWS API).
    All,
    /// One protocol number (TCP is 6, UDP 17, ICMP 1).
    Number(u8),
}

impl Protocol {
    /// TCP.
    pub const TCP: Protocol = Protocol::Number(6);
    /// UDP.
    pub const UDP: Protocol = Protocol::Number(17);
    /// ICMP.
    pub const ICMP: Protocol = Protocol::Number(1);

    /// The protocol as a rule writes it: `tcp`, `udp`, `icmp`, `all` or `-1`, or a
    /// decimal protocol number 0..255 (`6` is the same as `tcp`).
    pub fn from_name(name: &str) -> Option<Protocol> {
        match name {
            "all" | "-1" => Some(Protocol::All),
            "tcp" => Some(Protocol::TCP),
            "udp" => Some(Protocol::UDP),
            "icmp" => Some(Protocol::ICMP),
            n if !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()) => {
                n.parse().ok().map(Protocol::Number)
            }
            _ => None,
        }
    }

    /// Whether rules of this protocol may name ports (TCP and UDP).
    pub fn has_ports(self) -> bool {
        self == Protocol::TCP || self == Protocol::UDP
    }

    /// Whether a packet of protocol `p` matches.
    pub fn matches(self, p: u8) -> bool {
        match self {
            Protocol::All => true,
            Protocol::Number(n) => n == p,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::All => f.write_str("all"),
            Protocol::Number(6) => f.write_str("tcp"),
            Protocol::Number(17) => f.write_str("udp"),
            Protocol::Number(1) => f.write_str("icmp"),
            Protocol::Number(n) => write!(f, "{n}"),
        }
    }
}

/// An inclusive port range, `from <= to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port.
    pub from: u16,
    /// Last port.
    pub to: u16,
}

impl PortRange {
    /// Every port, 0..65535.
    pub const ALL: PortRange = PortRange { from: 0, to: 65535 };

    /// Whether `port` is in the range.
    pub fn contains(self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// What a rule matches beyond the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum L4Match {
    /// Anything (protocol `all`, a protocol without ports, or TCP/UDP on every port).
    Any,
    /// TCP or UDP destination ports (the port of the packet's destination for ingress
    /// and egress alike, as AWS matches them).
    Ports(PortRange),
    /// ICMP type and code; `None` is every type or every code (AWS's -1).
    Icmp {
        /// ICMP type, or every type.
        icmp_type: Option<u8>,
        /// ICMP code, or every code.
        code: Option<u8>,
    },
}

/// AWS's quota of rules per direction (inbound or outbound) of a security group.
pub const MAX_SG_RULES: usize = 60;

/// AWS's quota of security groups per network interface.
pub const MAX_SGS_PER_ENI: usize = 5;

/// AWS's limit on the length of a security group's or a rule's description.
pub const MAX_DESCRIPTION_LEN: usize = 255;

/// One security group rule (allow only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SgRule {
    /// The protocol it allows.
    pub protocol: Protocol,
    /// Ports or ICMP type/code.
    pub l4: L4Match,
    /// Where the traffic comes from (ingress) or goes to (egress).
    pub peer: SgPeer,
    /// Free text, shown by `vpcctl trace`.
    pub description: Option<String>,
}

/// The source (ingress) or destination (egress) of a security group rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SgPeer {
    /// An IPv4 block.
    Cidr(Ipv4Net),
    /// The members of a security group, by their ENIs' private IPs: a group of the
    /// rule's own VPC, or of a VPC peered with it in the same region (AWS's
    /// `UserIdGroupPair` with the peer's `VpcId`; whether the connection is active is
    /// the dataplane's to check).
    Group(SecurityGroupId),
    /// The blocks of an AWS-managed prefix list (AWS's `PrefixListId`): its service's
    /// (`endpoints.rs`), of the rule's region.
    PrefixList(crate::AwsServiceId),
}

/// A security group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    /// Unique within its VPC; every VPC has one named `default`.
    pub name: String,
    /// Its VPC.
    pub vpc: VpcId,
    /// Whether it is its VPC's default group (used by ENIs that name no group).
    pub default: bool,
    /// Whether it was written in the configuration (false: the implicit default group).
    pub declared: bool,
    /// Free text (`CreateSecurityGroup`'s `GroupDescription`), at most 255 characters;
    /// `None` if the file gives none.
    pub description: Option<String>,
    /// Inbound rules, in file order.
    pub ingress: Vec<SgRule>,
    /// Outbound rules, in file order.
    pub egress: Vec<SgRule>,
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleAction {
    /// Let the packet pass this ACL.
    Allow,
    /// Drop the packet.
    Deny,
}

impl fmt::Display for RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleAction::Allow => "allow",
            RuleAction::Deny => "deny",
        })
    }
}

/// One network ACL entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NaclRule {
    /// Rule number, 1..=32766; unique per direction of a NACL.
    pub number: u16,
    /// The protocol it matches.
    pub protocol: Protocol,
    /// Ports or ICMP type/code.
    pub l4: L4Match,
    /// The source (inbound) or destination (outbound) block.
    pub cidr: Ipv4Net,
    /// What a match does.
    pub action: RuleAction,
}

/// Highest rule number a NACL entry may have; 32767 is the implicit `*` deny.
pub const MAX_NACL_RULE: u16 = 32766;

/// AWS's default quota of rules per direction (inbound or outbound) of a network ACL.
pub const MAX_NACL_RULES: usize = 20;

/// A network ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkAcl {
    /// Unique within its VPC; every VPC has one named `default`.
    pub name: String,
    /// Its VPC.
    pub vpc: VpcId,
    /// Whether it is its VPC's default NACL (used by subnets without an association).
    pub default: bool,
    /// Whether it was written in the configuration (false: the implicit default NACL).
    pub declared: bool,
    /// Inbound rules, sorted by rule number.
    pub ingress: Vec<NaclRule>,
    /// Outbound rules, sorted by rule number.
    pub egress: Vec<NaclRule>,
}

/// Connection-tracking idle timeouts of one ENI, in seconds (EC2's
/// `ConnectionTrackingSpecification`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConntrackTimeouts {
    /// An established TCP connection: 60..=432,000, default 432,000 (5 days).
    pub tcp_established: u32,
    /// A UDP flow seen in both directions: 60..=180, default 180.
    pub udp_stream: u32,
    /// A UDP flow seen in one direction only: 30..=60, default 30.
    pub udp: u32,
}

impl ConntrackTimeouts {
    /// AWS's allowed range for each timeout.
    pub const TCP_ESTABLISHED_RANGE: (u32, u32) = (60, 432_000);
    /// AWS's allowed range for the UDP stream timeout.
    pub const UDP_STREAM_RANGE: (u32, u32) = (60, 180);
    /// AWS's allowed range for the one-direction UDP timeout.
    pub const UDP_RANGE: (u32, u32) = (30, 60);
}

impl Default for ConntrackTimeouts {
    fn default() -> Self {
        ConntrackTimeouts {
            tcp_established: 432_000,
            udp_stream: 180,
            udp: 30,
        }
    }
}

/// What a flow log covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowLogResource {
    /// Every ENI of a VPC.
    Vpc(VpcId),
    /// Every ENI of a subnet.
    Subnet(SubnetId),
    /// One ENI.
    Eni(EniId),
}

/// Which records a flow log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrafficType {
    /// Accepted traffic only.
    Accept,
    /// Rejected traffic only.
    Reject,
    /// Both.
    All,
}

impl TrafficType {
    /// AWS's spelling: `ACCEPT`, `REJECT` or `ALL`.
    pub fn name(self) -> &'static str {
        match self {
            TrafficType::Accept => "ACCEPT",
            TrafficType::Reject => "REJECT",
            TrafficType::All => "ALL",
        }
    }

    /// The traffic type spelled `name` (upper case, as AWS writes it).
    pub fn from_name(name: &str) -> Option<TrafficType> {
        [TrafficType::Accept, TrafficType::Reject, TrafficType::All]
            .into_iter()
            .find(|t| t.name() == name)
    }
}

impl fmt::Display for TrafficType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The aggregation intervals AWS allows, in seconds; the default is the longer one.
pub const FLOW_LOG_INTERVALS: [u32; 2] = [60, 600];

/// A flow log: records of the traffic of some ENIs, written to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLog {
    /// Unique name.
    pub name: String,
    /// The VPC, subnet or ENI it covers.
    pub resource: FlowLogResource,
    /// ACCEPT, REJECT or ALL.
    pub traffic_type: TrafficType,
    /// The file, as written; a relative path is relative to the daemon's flow-log
    /// directory.
    pub destination: String,
    /// The fields of a record, in order (the default format is version 2's 14 fields).
    pub format: Vec<FlowLogField>,
    /// Aggregation interval in seconds: 60 or 600.
    pub max_aggregation_interval: u32,
    /// Where the EC2 API was asked to deliver it (`LogDestinationType`,
    /// `LogDestination`, `DeliverLogsPermissionArn`), shown back as given; `None`
    /// for a flow log written to a file by name. vpcd writes every flow log to
    /// `destination` whatever this says.
    pub delivery: Option<FlowLogDelivery>,
}

/// The AWS destination a flow log was created with through the EC2 API: vpcd writes
/// the records to the flow log's file, and shows this back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLogDelivery {
    /// `cloud-watch-logs` or `s3`.
    pub destination_type: LogDestinationType,
    /// The destination's ARN (a log group's, or an S3 bucket's with its prefix).
    pub arn: String,
    /// `DeliverLogsPermissionArn` (an IAM role's ARN), if given.
    pub permission_arn: Option<String>,
}

/// AWS's `LogDestinationType` values vpcd accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogDestinationType {
    /// `cloud-watch-logs`.
    CloudWatchLogs,
    /// `s3`.
    S3,
}

impl LogDestinationType {
    /// AWS's spelling: `cloud-watch-logs` or `s3`.
    pub fn name(self) -> &'static str {
        match self {
            LogDestinationType::CloudWatchLogs => "cloud-watch-logs",
            LogDestinationType::S3 => "s3",
        }
    }

    /// The type spelled `name`.
    pub fn from_name(name: &str) -> Option<LogDestinationType> {
        [LogDestinationType::CloudWatchLogs, LogDestinationType::S3]
            .into_iter()
            .find(|t| t.name() == name)
    }
}

impl FlowLog {
    /// The version of its records: the highest version of its format's fields (what
    /// `${version}` prints).
    pub fn version(&self) -> u8 {
        self.format.iter().map(|f| f.version()).max().unwrap_or(2)
    }
}

macro_rules! flow_log_fields {
    ($( #[doc = $doc:literal] $variant:ident = ($name:literal, $version:literal), )*) => {
        /// A field of a flow log record (AWS's names, as written in `${...}`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FlowLogField {
            $( #[doc = $doc] $variant, )*
        }

        impl FlowLogField {
            /// Every field, in AWS's order.
            pub const ALL: &'static [FlowLogField] = &[$(FlowLogField::$variant),*];

            /// AWS's name, e.g. `srcaddr`.
            pub fn name(self) -> &'static str {
                match self { $(FlowLogField::$variant => $name,)* }
            }

            /// The flow log version that introduced the field (2..=5).
            pub fn version(self) -> u8 {
                match self { $(FlowLogField::$variant => $version,)* }
            }

            /// The field named `name`.
            pub fn from_name(name: &str) -> Option<FlowLogField> {
                Self::ALL.iter().copied().find(|f| f.name() == name)
            }
        }
    };
}

flow_log_fields! {
    /// The format version: the highest version of the record's fields.
    Version = ("version", 2),
    /// The account (vpcd has none; a fixed value).
    AccountId = ("account-id", 2),
    /// The ENI.
    InterfaceId = ("interface-id", 2),
    /// Source address.
    SrcAddr = ("srcaddr", 2),
    /// Destination address.
    DstAddr = ("dstaddr", 2),
    /// Source port.
    SrcPort = ("srcport", 2),
    /// Destination port.
    DstPort = ("dstport", 2),
    /// IP protocol number.
    Protocol = ("protocol", 2),
    /// Packets in the interval.
    Packets = ("packets", 2),
    /// Bytes in the interval.
    Bytes = ("bytes", 2),
    /// Unix seconds of the first packet in the interval.
    Start = ("start", 2),
    /// Unix seconds of the last packet in the interval.
    End = ("end", 2),
    /// ACCEPT or REJECT.
    Action = ("action", 2),
    /// OK, NODATA or SKIPDATA.
    LogStatus = ("log-status", 2),
    /// The ENI's VPC.
    VpcId = ("vpc-id", 3),
    /// The ENI's subnet.
    SubnetId = ("subnet-id", 3),
    /// The ENI's instance.
    InstanceId = ("instance-id", 3),
    /// TCP flags OR'd over the interval.
    TcpFlags = ("tcp-flags", 3),
    /// IPv4 or IPv6.
    Type = ("type", 3),
    /// The packet's source address as sent (differs from srcaddr behind NAT).
    PktSrcAddr = ("pkt-srcaddr", 3),
    /// The packet's destination address as sent.
    PktDstAddr = ("pkt-dstaddr", 3),
    /// The region.
    Region = ("region", 4),
    /// The availability zone.
    AzId = ("az-id", 4),
    /// Wavelength or Outpost; always `-`.
    SublocationType = ("sublocation-type", 4),
    /// Its id; always `-`.
    SublocationId = ("sublocation-id", 4),
    /// An AWS service the source address belongs to; always `-`.
    PktSrcAwsService = ("pkt-src-aws-service", 5),
    /// An AWS service the destination address belongs to; always `-`.
    PktDstAwsService = ("pkt-dst-aws-service", 5),
    /// ingress or egress, relative to the ENI.
    FlowDirection = ("flow-direction", 5),
    /// The path egress traffic takes (1: another resource in the same VPC).
    TrafficPath = ("traffic-path", 5),
}

/// AWS's default format (version 2).
pub const DEFAULT_FLOW_LOG_FORMAT: [FlowLogField; 14] = [
    FlowLogField::Version,
    FlowLogField::AccountId,
    FlowLogField::InterfaceId,
    FlowLogField::SrcAddr,
    FlowLogField::DstAddr,
    FlowLogField::SrcPort,
    FlowLogField::DstPort,
    FlowLogField::Protocol,
    FlowLogField::Packets,
    FlowLogField::Bytes,
    FlowLogField::Start,
    FlowLogField::End,
    FlowLogField::Action,
    FlowLogField::LogStatus,
];
