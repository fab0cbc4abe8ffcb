//! Robustness: any action with any mix of parameters, signed, against the demo, is
//! answered with a success or a client error (never a panic, never a server error that
//! clients would retry), and a change it makes reads back from its own file unchanged.

mod common;

use common::*;
use proptest::prelude::*;

/// Every action vpcd implements, and a few it does not.
const ACTIONS: &[&str] = &[
    "DescribeAvailabilityZones",
    "DescribeRegions",
    "CreateVpc",
    "DescribeVpcs",
    "DeleteVpc",
    "DescribeVpcAttribute",
    "ModifyVpcAttribute",
    "CreateSubnet",
    "DescribeSubnets",
    "DeleteSubnet",
    "ModifySubnetAttribute",
    "CreateTags",
    "DeleteTags",
    "DescribeTags",
    "CreateInternetGateway",
    "AttachInternetGateway",
    "DetachInternetGateway",
    "DescribeInternetGateways",
    "DeleteInternetGateway",
    "CreateSecurityGroup",
    "DescribeSecurityGroups",
    "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "DescribeSecurityGroupRules",
    "ModifySecurityGroupRules",
    "CreateNetworkAcl",
    "DescribeNetworkAcls",
    "DeleteNetworkAcl",
    "CreateNetworkAclEntry",
    "ReplaceNetworkAclEntry",
    "DeleteNetworkAclEntry",
    "ReplaceNetworkAclAssociation",
    "CreateRouteTable",
    "DescribeRouteTables",
    "DeleteRouteTable",
    "CreateRoute",
    "ReplaceRoute",
    "DeleteRoute",
    "AssociateRouteTable",
    "DisassociateRouteTable",
    "ReplaceRouteTableAssociation",
    "AllocateAddress",
    "DescribeAddresses",
    "AssociateAddress",
    "DisassociateAddress",
    "ReleaseAddress",
    "DescribeAddressesAttribute",
    "CreateNatGateway",
    "DescribeNatGateways",
    "DeleteNatGateway",
    "DescribeImages",
    "DescribeInstanceTypes",
    "GetInstanceUefiData",
    "RunInstances",
    "DescribeInstances",
    "DescribeInstanceStatus",
    "DescribeInstanceAttribute",
    "ModifyInstanceAttribute",
    "TerminateInstances",
    "DescribeVolumes",
    "DescribeInstanceCreditSpecifications",
    "DescribeNetworkInterfaces",
    "ModifyNetworkInterfaceAttribute",
    "CreateVpcPeeringConnection",
    "AcceptVpcPeeringConnection",
    "DescribeVpcPeeringConnections",
    "DeleteVpcPeeringConnection",
    "ModifyVpcPeeringConnectionOptions",
    "CreateTransitGateway",
    "DescribeTransitGateways",
    "DeleteTransitGateway",
    "CreateTransitGatewayRouteTable",
    "DescribeTransitGatewayRouteTables",
    "DeleteTransitGatewayRouteTable",
    "CreateTransitGatewayVpcAttachment",
    "DescribeTransitGatewayVpcAttachments",
    "DeleteTransitGatewayVpcAttachment",
    "AcceptTransitGatewayVpcAttachment",
    "ModifyTransitGatewayVpcAttachment",
    "AssociateTransitGatewayRouteTable",
    "DisassociateTransitGatewayRouteTable",
    "GetTransitGatewayRouteTableAssociations",
    "EnableTransitGatewayRouteTablePropagation",
    "DisableTransitGatewayRouteTablePropagation",
    "GetTransitGatewayRouteTablePropagations",
    "CreateTransitGatewayRoute",
    "DeleteTransitGatewayRoute",
    "SearchTransitGatewayRoutes",
    "CreateFlowLogs",
    "DescribeFlowLogs",
    "DeleteFlowLogs",
    "CreateDhcpOptions",
    "DescribeDhcpOptions",
    "DeleteDhcpOptions",
    "AssociateDhcpOptions",
    "StopInstances",
    "",
];

/// Parameter names the clients send (and a few odd ones).
const NAMES: &[&str] = &[
    "VpcId",
    "VpcId.1",
    "SubnetId",
    "SubnetId.1",
    "CidrBlock",
    "AvailabilityZone",
    "GroupId",
    "GroupId.1",
    "GroupName",
    "Description",
    "GroupDescription",
    "RouteTableId",
    "DestinationCidrBlock",
    "GatewayId",
    "NatGatewayId",
    "AllocationId",
    "AssociationId",
    "InstanceId",
    "InstanceId.1",
    "NetworkInterfaceId",
    "ImageId",
    "InstanceType",
    "MinCount",
    "MaxCount",
    "PrivateIpAddress",
    "SecurityGroupId.1",
    "NetworkAclId",
    "RuleNumber",
    "Protocol",
    "RuleAction",
    "Egress",
    "PortRange.From",
    "PortRange.To",
    "IpPermissions.1.IpProtocol",
    "IpPermissions.1.FromPort",
    "IpPermissions.1.ToPort",
    "IpPermissions.1.IpRanges.1.CidrIp",
    "IpPermissions.1.Groups.1.GroupId",
    "SecurityGroupRuleId.1",
    "Filter.1.Name",
    "Filter.1.Value.1",
    "Filter.2.Name",
    "Filter.2.Value.1",
    "MaxResults",
    "NextToken",
    "ResourceId.1",
    "Tag.1.Key",
    "Tag.1.Value",
    "TagSpecification.1.ResourceType",
    "TagSpecification.1.Tag.1.Key",
    "TagSpecification.1.Tag.1.Value",
    "Attribute",
    "EnableDnsHostnames.Value",
    "MapPublicIpOnLaunch.Value",
    "Domain",
    "PublicIp",
    "ClientToken",
    "PeerVpcId",
    "VpcPeeringConnectionId",
    "TransitGatewayId",
    "TransitGatewayRouteTableId",
    "TransitGatewayAttachmentId",
    "SubnetIds.1",
    "Blackhole",
    "ResourceType",
    "TrafficType",
    "LogDestinationType",
    "LogDestination",
    "FlowLogId.1",
    "DisableApiTermination.Value",
    "NetworkInterface.1.DeviceIndex",
    "NetworkInterface.1.SubnetId",
    "NetworkInterface.1.SecurityGroupId.1",
    "UserData",
    "Filter.99999999999.Name",
    "DhcpOptionsId",
    "DhcpOptionsId.1",
    "DhcpConfiguration.1.Key",
    "DhcpConfiguration.1.Value.1",
    "DhcpConfiguration.1.Value.2",
    "",
];

/// Values: IDs of the demo's resources, addresses, numbers, and junk.
fn values() -> Vec<String> {
    let t = Topology::demo();
    let mut v: Vec<String> = [
        "10.0.0.0/16",
        "10.0.1.0/24",
        "10.9.0.0/16",
        "0.0.0.0/0",
        "10.0.2.50",
        "-1",
        "0",
        "65536",
        "99999999999999999999",
        "tcp",
        "udp",
        "icmp",
        "6",
        "allow",
        "deny",
        "true",
        "false",
        "vpc",
        "local-1a",
        "local-1z",
        "vpc-id",
        "tag:Name",
        "state",
        "*",
        "?",
        "web",
        "t3.micro",
        "ami-00000000000000000",
        "i-00000000000000000",
        "",
        "%",
        "&",
        "\u{0}",
        "<x>",
        "enableDnsSupport",
        "instance",
        "s3",
        "arn:aws:s3:::bucket",
        "ALL",
        "VPC",
        "domain-name",
        "domain-name-servers",
        "netbios-node-type",
        "AmazonProvidedDNS",
        "default",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in &t.subnets {
        v.push(ids::id(Kind::Subnet, &s.name));
    }
    // A group's ID hashes `<vpc>/<name>` (names are unique per VPC).
    for g in &t.security_groups {
        let vpc = &t.vpc(g.vpc).name;
        v.push(ids::id(Kind::SecurityGroup, &format!("{vpc}/{}", g.name)));
    }
    for r in &t.route_tables {
        v.push(ids::id(Kind::RouteTable, &r.name));
    }
    for i in &t.instances {
        v.push(ids::id(Kind::Instance, &i.name));
    }
    v.push(ids::id(Kind::Vpc, "demo"));
    v
}

/// `s` percent-encoded for a form body.
fn form(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn any_request_gets_an_answer_and_changes_stay_valid(
        action in 0..ACTIONS.len(),
        params in prop::collection::vec((0..NAMES.len(), 0..200usize), 0..7),
        junk in "[ -~]{0,12}",
    ) {
        let vals = values();
        let mut body = format!("Action={}&Version=2016-11-15", ACTIONS[action]);
        for (n, v) in params {
            let value = vals.get(v).cloned().unwrap_or_else(|| junk.clone());
            body.push_str(&format!("&{}={}", form(NAMES[n]), form(&value)));
        }
        let mut s = Session::demo();
        // `call` checks that a change reads back from its own file unchanged.
        let r = s.call(&body);
        prop_assert!(r.status == 200 || (400..500).contains(&r.status), "{body}\n{}", r.body);
        prop_assert!(r.body.starts_with("<?xml"), "{body}\n{}", r.body);
    }
}
