//! EC2 resource IDs of a topology's resources: derived from their names, never stored.
//!
//! An ID is a prefix (`vpc-`, `subnet-`, `rtb-`, ...) and 17 lowercase hex digits. A
//! resource whose configuration name already is a well-formed ID of its kind has that
//! ID; any other gets the prefix and the first 17 hex digits of
//! SHA-256(`<kind>/<name>`), where `<kind>` is [`Kind::hash_name`] and `<name>` its
//! identifying name ([`names`]: a security group's or network ACL's is
//! `<vpc>/<name>`, since those names are unique per VPC, a network interface's
//! `<instance>/ethN`; sub-resources such as associations hash the names that identify
//! them, e.g. a route table association `<route table>/<subnet>`). IDs are stable
//! across restarts because names are saved, and the same name always gives the same
//! ID. [`resolve`] finds a resource by its ID, or by its plain name for convenience.

use sha2::{Digest, Sha256};
use vpc_config::Topology;

/// The kinds of resources (and sub-resources) that have IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `vpc-`
    Vpc,
    /// `subnet-`
    Subnet,
    /// `rtb-`
    RouteTable,
    /// `rtbassoc-`
    RouteTableAssociation,
    /// `igw-`
    InternetGateway,
    /// `nat-`
    NatGateway,
    /// `eipalloc-`
    ElasticIp,
    /// `eipassoc-`
    ElasticIpAssociation,
    /// `sg-`
    SecurityGroup,
    /// `sgr-`
    SecurityGroupRule,
    /// `acl-`
    NetworkAcl,
    /// `aclassoc-`
    NetworkAclAssociation,
    /// `i-`
    Instance,
    /// `eni-`
    NetworkInterface,
    /// `pcx-`
    PeeringConnection,
    /// `tgw-`
    TransitGateway,
    /// `tgw-attach-`
    TgwAttachment,
    /// `tgw-rtb-`
    TgwRouteTable,
    /// `fl-`
    FlowLog,
    /// `vpc-cidr-assoc-`
    VpcCidrAssociation,
    /// `dopt-`
    DhcpOptions,
    /// `vpce-` (a gateway VPC endpoint, by name)
    VpcEndpoint,
    /// `pl-` (an AWS-managed prefix list, by its name `com.amazonaws.<region>.<service>`)
    PrefixList,
    /// `vgw-` (a virtual private gateway)
    VpnGateway,
    /// `cgw-` (a customer gateway)
    CustomerGateway,
    /// `vpn-`: a VPN connection.
    VpnConnection,
}

/// The kinds [`resolve`] and [`names`] know (those with a list in the topology), in
/// the order `DescribeTags` lists them.
pub const RESOURCE_KINDS: [Kind; 20] = [
    Kind::Vpc,
    Kind::Subnet,
    Kind::RouteTable,
    Kind::InternetGateway,
    Kind::NatGateway,
    Kind::ElasticIp,
    Kind::SecurityGroup,
    Kind::NetworkAcl,
    Kind::Instance,
    Kind::NetworkInterface,
    Kind::PeeringConnection,
    Kind::TransitGateway,
    Kind::TgwAttachment,
    Kind::TgwRouteTable,
    Kind::FlowLog,
    Kind::DhcpOptions,
    Kind::VpcEndpoint,
    Kind::VpnGateway,
    Kind::CustomerGateway,
    Kind::VpnConnection,
];

impl Kind {
    /// The ID prefix, dash included.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc-",
            Kind::Subnet => "subnet-",
            Kind::RouteTable => "rtb-",
            Kind::RouteTableAssociation => "rtbassoc-",
            Kind::InternetGateway => "igw-",
            Kind::NatGateway => "nat-",
            Kind::ElasticIp => "eipalloc-",
            Kind::ElasticIpAssociation => "eipassoc-",
            Kind::SecurityGroup => "sg-",
            Kind::SecurityGroupRule => "sgr-",
            Kind::NetworkAcl => "acl-",
            Kind::NetworkAclAssociation => "aclassoc-",
            Kind::Instance => "i-",
            Kind::NetworkInterface => "eni-",
            Kind::PeeringConnection => "pcx-",
            Kind::TransitGateway => "tgw-",
            Kind::TgwAttachment => "tgw-attach-",
            Kind::TgwRouteTable => "tgw-rtb-",
            Kind::FlowLog => "fl-",
            Kind::VpcCidrAssociation => "vpc-cidr-assoc-",
            Kind::DhcpOptions => "dopt-",
            Kind::VpcEndpoint => "vpce-",
            Kind::PrefixList => "pl-",
            Kind::VpnGateway => "vgw-",
            Kind::CustomerGateway => "cgw-",
            Kind::VpnConnection => "vpn-",
        }
    }

    /// The kind's name in the hashed text (`<kind>/<name>`): the prefix without its
    /// final dash (`vpc`, `subnet`, `rtb`, `tgw-attach`, ...).
    pub fn hash_name(self) -> &'static str {
        let p = self.prefix();
        &p[..p.len() - 1]
    }

    /// AWS's `ResourceType` (of `TagSpecification` and `DescribeTags`).
    pub fn resource_type(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::RouteTable => "route-table",
            Kind::InternetGateway => "internet-gateway",
            Kind::NatGateway => "natgateway",
            Kind::ElasticIp => "elastic-ip",
            Kind::SecurityGroup => "security-group",
            Kind::SecurityGroupRule => "security-group-rule",
            Kind::NetworkAcl => "network-acl",
            Kind::Instance => "instance",
            Kind::NetworkInterface => "network-interface",
            Kind::PeeringConnection => "vpc-peering-connection",
            Kind::TransitGateway => "transit-gateway",
            Kind::TgwAttachment => "transit-gateway-attachment",
            Kind::TgwRouteTable => "transit-gateway-route-table",
            Kind::FlowLog => "vpc-flow-log",
            Kind::DhcpOptions => "dhcp-options",
            Kind::VpcEndpoint => "vpc-endpoint",
            Kind::PrefixList => "prefix-list",
            Kind::VpnGateway => "vpn-gateway",
            Kind::CustomerGateway => "customer-gateway",
            Kind::VpnConnection => "vpn-connection",
            Kind::RouteTableAssociation
            | Kind::ElasticIpAssociation
            | Kind::NetworkAclAssociation
            | Kind::VpcCidrAssociation => "",
        }
    }

    /// AWS's error code for an unknown ID of this kind, without `.NotFound` /
    /// `.Malformed`: `InvalidVpcID`, `InvalidSubnetID`, ...
    pub fn error_code(self) -> &'static str {
        match self {
            Kind::Vpc => "InvalidVpcID",
            Kind::Subnet => "InvalidSubnetID",
            Kind::RouteTable => "InvalidRouteTableID",
            Kind::RouteTableAssociation => "InvalidAssociationID",
            Kind::InternetGateway => "InvalidInternetGatewayID",
            Kind::NatGateway => "InvalidNatGatewayID",
            Kind::ElasticIp => "InvalidAllocationID",
            Kind::ElasticIpAssociation => "InvalidAssociationID",
            Kind::SecurityGroup => "InvalidGroupId",
            Kind::SecurityGroupRule => "InvalidSecurityGroupRuleId",
            Kind::NetworkAcl => "InvalidNetworkAclID",
            Kind::NetworkAclAssociation => "InvalidAssociationID",
            Kind::Instance => "InvalidInstanceID",
            Kind::NetworkInterface => "InvalidNetworkInterfaceID",
            Kind::PeeringConnection => "InvalidVpcPeeringConnectionID",
            Kind::TransitGateway => "InvalidTransitGatewayID",
            Kind::TgwAttachment => "InvalidTransitGatewayAttachmentID",
            Kind::TgwRouteTable => "InvalidRouteTableID",
            Kind::FlowLog => "InvalidFlowLogId",
            Kind::VpcCidrAssociation => "InvalidVpcCidrBlockAssociationID",
            Kind::DhcpOptions => "InvalidDhcpOptionID",
            Kind::VpcEndpoint => "InvalidVpcEndpointId",
            Kind::PrefixList => "InvalidPrefixListID",
            Kind::VpnGateway => "InvalidVpnGatewayID",
            Kind::CustomerGateway => "InvalidCustomerGatewayID",
            Kind::VpnConnection => "InvalidVpnConnectionID",
        }
    }

    /// AWS's wording of the kind in messages (`The vpc ID 'vpc-1' does not exist`).
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::RouteTable => "routeTable",
            Kind::InternetGateway => "internetGateway",
            Kind::NatGateway => "natGateway",
            Kind::ElasticIp => "allocation",
            Kind::SecurityGroup => "security group",
            Kind::NetworkAcl => "networkAcl",
            Kind::Instance => "instance",
            Kind::NetworkInterface => "networkInterface",
            Kind::PeeringConnection => "vpcPeeringConnection",
            Kind::TransitGateway => "transitGateway",
            Kind::TgwAttachment => "transitGatewayAttachment",
            Kind::TgwRouteTable => "transitGatewayRouteTable",
            Kind::FlowLog => "flowLog",
            Kind::DhcpOptions => "dhcpOption",
            Kind::VpcEndpoint => "vpcEndpoint",
            Kind::PrefixList => "prefixList",
            Kind::VpnGateway => "vpnGateway",
            Kind::CustomerGateway => "customerGateway",
            Kind::VpnConnection => "vpnConnection",
            _ => "association",
        }
    }

    /// The kind whose IDs have the longest prefix `id` starts with (`tgw-attach-...` is
    /// a transit gateway attachment, not a transit gateway).
    pub fn of_id(id: &str) -> Option<Kind> {
        const ALL: [Kind; 26] = [
            Kind::Vpc,
            Kind::Subnet,
            Kind::RouteTable,
            Kind::RouteTableAssociation,
            Kind::InternetGateway,
            Kind::NatGateway,
            Kind::ElasticIp,
            Kind::ElasticIpAssociation,
            Kind::SecurityGroup,
            Kind::SecurityGroupRule,
            Kind::NetworkAcl,
            Kind::NetworkAclAssociation,
            Kind::Instance,
            Kind::NetworkInterface,
            Kind::PeeringConnection,
            Kind::TransitGateway,
            Kind::TgwAttachment,
            Kind::TgwRouteTable,
            Kind::FlowLog,
            Kind::VpcCidrAssociation,
            Kind::DhcpOptions,
            Kind::VpcEndpoint,
            Kind::PrefixList,
            Kind::VpnGateway,
            Kind::CustomerGateway,
            Kind::VpnConnection,
        ];
        ALL.into_iter()
            .filter(|k| id.starts_with(k.prefix()))
            .max_by_key(|k| k.prefix().len())
    }
}

/// Whether `s` is a well-formed ID of `kind`: its prefix and 17 lowercase hex digits.
pub fn is_id(kind: Kind, s: &str) -> bool {
    s.strip_prefix(kind.prefix()).is_some_and(|h| {
        h.len() == 17
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }) && Kind::of_id(s) == Some(kind)
}

/// Whether `s` looks like an ID of `kind` as AWS accepts them: the prefix and 8 or 17
/// hex digits (older IDs have 8).
pub fn is_well_formed(kind: Kind, s: &str) -> bool {
    s.strip_prefix(kind.prefix()).is_some_and(|h| {
        (h.len() == 17 || h.len() == 8) && h.bytes().all(|b| b.is_ascii_hexdigit())
    }) && Kind::of_id(s) == Some(kind)
}

/// The ID of the resource of `kind` whose identifying name is `name`.
pub fn id(kind: Kind, name: &str) -> String {
    if is_id(kind, name) {
        return name.to_owned();
    }
    hashed(kind, &format!("{}/{name}", kind.hash_name()))
}

/// `kind`'s prefix and the first 17 hex digits of SHA-256(`text`).
pub fn hashed(kind: Kind, text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex = crate::sigv4::hex(&digest);
    format!("{}{}", kind.prefix(), &hex[..17])
}

/// The identifying names of the resources of `kind`, in topology order (empty for
/// sub-resource kinds).
pub fn names(t: &Topology, kind: Kind) -> Vec<String> {
    match kind {
        Kind::Vpc => t.vpcs.iter().map(|v| v.name.clone()).collect(),
        Kind::Subnet => t.subnets.iter().map(|s| s.name.clone()).collect(),
        Kind::RouteTable => t.route_tables.iter().map(|r| r.name.clone()).collect(),
        Kind::InternetGateway => t.internet_gateways.iter().map(|g| g.name.clone()).collect(),
        Kind::NatGateway => t.nat_gateways.iter().map(|n| n.name.clone()).collect(),
        Kind::ElasticIp => t.elastic_ips.iter().map(|e| e.name.clone()).collect(),
        Kind::SecurityGroup => t
            .security_groups
            .iter()
            .map(|g| format!("{}/{}", t.vpc(g.vpc).name, g.name))
            .collect(),
        Kind::NetworkAcl => t
            .network_acls
            .iter()
            .map(|n| format!("{}/{}", t.vpc(n.vpc).name, n.name))
            .collect(),
        Kind::Instance => t.instances.iter().map(|i| i.name.clone()).collect(),
        Kind::NetworkInterface => t.eni_ids().map(|e| t.eni_name(e).to_string()).collect(),
        Kind::PeeringConnection => t
            .vpc_peering_connections
            .iter()
            .map(|p| p.name.clone())
            .collect(),
        Kind::TransitGateway => t.transit_gateways.iter().map(|g| g.name.clone()).collect(),
        Kind::TgwAttachment => t.tgw_attachments.iter().map(|a| a.name.clone()).collect(),
        Kind::TgwRouteTable => t.tgw_route_tables.iter().map(|r| r.name.clone()).collect(),
        Kind::FlowLog => t.flow_logs.iter().map(|f| f.name.clone()).collect(),
        Kind::DhcpOptions => t.dhcp_options.iter().map(|o| o.name.clone()).collect(),
        Kind::VpcEndpoint => t.vpc_endpoints.iter().map(|e| e.name.clone()).collect(),
        Kind::PrefixList => t.aws_services.iter().map(|s| s.service_name()).collect(),
        Kind::VpnGateway => t.vpn_gateways.iter().map(|g| g.name.clone()).collect(),
        Kind::CustomerGateway => t.customer_gateways.iter().map(|g| g.name.clone()).collect(),
        Kind::VpnConnection => t.vpn_connections.iter().map(|c| c.name.clone()).collect(),
        _ => Vec::new(),
    }
}

/// The configuration name of a resource whose identifying name is `ident` (a security
/// group's or network ACL's without its VPC).
pub fn config_name(kind: Kind, ident: &str) -> &str {
    match kind {
        Kind::SecurityGroup | Kind::NetworkAcl => ident.split_once('/').map_or(ident, |(_, n)| n),
        _ => ident,
    }
}

/// The index of the resource of `kind` whose ID, or identifying name, is `id_or_name`.
pub fn resolve(t: &Topology, kind: Kind, id_or_name: &str) -> Option<usize> {
    let names = names(t, kind);
    names
        .iter()
        .position(|n| id(kind, n) == id_or_name)
        .or_else(|| names.iter().position(|n| n == id_or_name))
}

/// The IDs of the resources of `kind`, in topology order.
pub fn ids(t: &Topology, kind: Kind) -> Vec<String> {
    names(t, kind).iter().map(|n| id(kind, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hashes_of_names_unless_the_name_is_an_id() {
        let a = id(Kind::Vpc, "main");
        assert!(is_id(Kind::Vpc, &a), "{a}");
        assert_eq!(a.len(), 4 + 17);
        assert_eq!(a, id(Kind::Vpc, "main"));
        assert_ne!(a, id(Kind::Subnet, "main")[3..].to_owned());
        assert_eq!(
            id(Kind::Vpc, "vpc-0123456789abcdef0"),
            "vpc-0123456789abcdef0"
        );
        // Not of its kind, or not 17 digits: hashed.
        assert_ne!(
            id(Kind::Subnet, "vpc-0123456789abcdef0"),
            "vpc-0123456789abcdef0"
        );
        assert_ne!(id(Kind::Vpc, "vpc-0123"), "vpc-0123");
        assert_eq!(
            Kind::of_id("tgw-attach-0123456789abcdef0"),
            Some(Kind::TgwAttachment)
        );
        assert_eq!(
            Kind::of_id("tgw-0123456789abcdef0"),
            Some(Kind::TransitGateway)
        );
        assert!(!is_id(Kind::TransitGateway, "tgw-rtb-0123456789a"));
        // The exact hash: SHA-256("vpc/main").
        let digest = crate::sigv4::hex(&Sha256::digest(b"vpc/main"));
        assert_eq!(a, format!("vpc-{}", &digest[..17]));
    }

    #[test]
    fn resolve_takes_ids_and_names() {
        let t = Topology::demo();
        for kind in RESOURCE_KINDS {
            for (i, n) in names(&t, kind).iter().enumerate() {
                assert_eq!(resolve(&t, kind, &id(kind, n)), Some(i), "{kind:?} {n}");
            }
        }
        let v = &t.vpcs[0].name;
        assert_eq!(resolve(&t, Kind::Vpc, v), Some(0));
        assert_eq!(resolve(&t, Kind::Vpc, "vpc-00000000000000000"), None);
    }
}
