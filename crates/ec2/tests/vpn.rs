//! Virtual private and customer gateways end to end, on config/vpn.toml (VPC corp,
//! table app-rt propagating vgw and routing 172.16.0.0/16 to it, customer gateways hq
//! and branch): signed requests with literal bodies, the XML answered, AWS's error
//! codes, and the topology returned (which reads back from its own file unchanged).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

fn session() -> Session {
    let text = include_str!("../../../config/vpn.toml");
    Session::new(vpc_config::parse(text, "vpn.toml").unwrap())
}

fn vgw(name: &str) -> String {
    ids::id(Kind::VpnGateway, name)
}

fn cgw(name: &str) -> String {
    ids::id(Kind::CustomerGateway, name)
}

fn vpc(name: &str) -> String {
    ids::id(Kind::Vpc, name)
}

fn rtb(name: &str) -> String {
    ids::id(Kind::RouteTable, name)
}

#[test]
fn ids_have_awss_prefixes() {
    assert!(vgw("vgw").starts_with("vgw-") && vgw("vgw").len() == 21);
    assert!(cgw("hq").starts_with("cgw-") && cgw("hq").len() == 21);
    assert_eq!(Kind::of_id(&vgw("vgw")), Some(Kind::VpnGateway));
    assert_eq!(Kind::of_id(&cgw("hq")), Some(Kind::CustomerGateway));
}

#[test]
fn vpn_gateways_are_described_and_filtered() {
    let mut s = session();
    let body = s.ok(&format!("Action=DescribeVpnGateways&{V}"));
    assert_eq!(count(&body, "<vpnGatewayId>"), 1);
    assert_eq!(first(&body, "vpnGatewayId"), vgw("vgw"));
    assert_eq!(first(&body, "state"), "available");
    assert_eq!(first(&body, "type"), "ipsec.1");
    assert_eq!(first(&body, "amazonSideAsn"), "64512");
    assert_eq!(
        first(&body, "attachments"),
        format!(
            "<item><vpcId>{}</vpcId><state>attached</state></item>",
            vpc("corp")
        )
    );
    for (filter, value, hits) in [
        ("vpn-gateway-id", vgw("vgw"), 1),
        ("state", "available".into(), 1),
        ("state", "deleted".into(), 0),
        ("type", "ipsec.1".into(), 1),
        ("amazon-side-asn", "64512".into(), 1),
        ("amazon-side-asn", "65000".into(), 0),
        ("attachment.state", "attached".into(), 1),
        ("attachment.vpc-id", vpc("corp"), 1),
        ("availability-zone", "us-east-1a".into(), 0),
        ("tag:Name", "vgw".into(), 1),
    ] {
        let body = s.ok(&format!(
            "Action=DescribeVpnGateways&{V}&Filter.1.Name={filter}&Filter.1.Value.1={value}"
        ));
        assert_eq!(count(&body, "<vpnGatewayId>"), hits, "{filter}={value}");
    }
    s.err(
        "Action=DescribeVpnGateways&Version=2016-11-15&VpnGatewayId.1=vgw-0123456789abcdef0",
        400,
        "InvalidVpnGatewayID.NotFound",
    );
}

#[test]
fn a_vpn_gateway_is_created_attached_detached_and_deleted() {
    let mut s = session();
    let body = s.ok(&format!(
        "Action=CreateVpnGateway&{V}&Type=ipsec.1&AmazonSideAsn=4200000001&AvailabilityZone=us-east-1b&TagSpecification.1.ResourceType=vpn-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=lab-vgw"
    ));
    assert_eq!(first(&body, "vpnGatewayId"), vgw("lab-vgw"));
    assert_eq!(first(&body, "amazonSideAsn"), "4200000001");
    assert_eq!(first(&body, "availabilityZone"), "us-east-1b");
    assert_eq!(first(&body, "attachments"), "");
    let g = s.t.find_vpn_gateway("lab-vgw").unwrap();
    assert_eq!(s.t.vpn_gateway(g).vpc, None);
    s.err(
        &format!("Action=CreateVpnGateway&{V}&Type=ipsec.2"),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!("Action=CreateVpnGateway&{V}&Type=ipsec.1&AmazonSideAsn=65535"),
        400,
        "InvalidParameterValue",
    );
    // corp has vgw already.
    let attach = format!(
        "Action=AttachVpnGateway&{V}&VpnGatewayId={}&VpcId={}",
        vgw("lab-vgw"),
        vpc("corp")
    );
    s.err(&attach, 400, "VpnGatewayAttachmentLimitExceeded");
    // Deleting an attached gateway is refused; detaching it first leaves the route
    // blackhole and the propagation gone, and the route still names it.
    s.err(
        &format!("Action=DeleteVpnGateway&{V}&VpnGatewayId={}", vgw("vgw")),
        400,
        "IncorrectState",
    );
    let msg = s.err(
        &format!("Action=DeleteVpc&{V}&VpcId={}", vpc("corp")),
        400,
        "DependencyViolation",
    );
    assert!(msg.contains(&vgw("vgw")), "{msg}");
    let detach = format!(
        "Action=DetachVpnGateway&{V}&VpnGatewayId={}&VpcId={}",
        vgw("vgw"),
        vpc("corp")
    );
    s.ok(&detach);
    s.err(&detach, 400, "InvalidVpnGatewayAttachment.NotFound");
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={}",
        rtb("app-rt")
    ));
    assert!(
        body.contains(&format!(
            "<destinationCidrBlock>172.16.0.0/16</destinationCidrBlock><gatewayId>{}</gatewayId><state>blackhole</state>",
            vgw("vgw")
        )),
        "{body}"
    );
    assert_eq!(first(&body, "propagatingVgwSet"), "");
    s.err(
        &format!("Action=DeleteVpnGateway&{V}&VpnGatewayId={}", vgw("vgw")),
        400,
        "DependencyViolation",
    );
    // The other gateway takes the VPC; the old route stays blackhole (it names vgw).
    let body = s.ok(&attach);
    assert_eq!(
        first(&body, "attachment"),
        format!("<vpcId>{}</vpcId><state>attached</state>", vpc("corp"))
    );
    s.ok(&format!(
        "Action=DeleteRoute&{V}&RouteTableId={}&DestinationCidrBlock=172.16.0.0/16",
        rtb("app-rt")
    ));
    s.ok(&format!(
        "Action=DeleteVpnGateway&{V}&VpnGatewayId={}",
        vgw("vgw")
    ));
    let body = s.ok(&format!("Action=DescribeVpnGateways&{V}"));
    assert_eq!(count(&body, "<vpnGatewayId>"), 1);
    assert_eq!(first(&body, "vpnGatewayId"), vgw("lab-vgw"));
}

#[test]
fn routes_and_propagation_to_a_vpn_gateway() {
    let mut s = session();
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={}",
        rtb("app-rt")
    ));
    assert_eq!(
        first(&body, "propagatingVgwSet"),
        format!("<item><gatewayId>{}</gatewayId></item>", vgw("vgw"))
    );
    assert!(
        body.contains(&format!(
            "<gatewayId>{}</gatewayId><state>active</state><origin>CreateRoute</origin>",
            vgw("vgw")
        )),
        "{body}"
    );
    let create = |dest: &str, gw: &str| {
        format!(
            "Action=CreateRoute&{V}&RouteTableId={}&DestinationCidrBlock={dest}&GatewayId={gw}",
            rtb("app-rt")
        )
    };
    s.ok(&create("172.17.0.0/16", &vgw("vgw")));
    s.err(
        &create("172.18.0.0/16", "vgw-0123456789abcdef0"),
        400,
        "InvalidVpnGatewayID.NotFound",
    );
    s.ok(&format!(
        "Action=ReplaceRoute&{V}&RouteTableId={}&DestinationCidrBlock=172.17.0.0/16&GatewayId={}",
        rtb("app-rt"),
        vgw("vgw")
    ));
    let t = &s.t;
    let rt = &t.route_tables[t.find_route_table("app-rt").unwrap().index()];
    assert_eq!(
        rt.routes
            .iter()
            .filter(|r| matches!(r.target, vpc_config::RouteTarget::VpnGateway(_)))
            .count(),
        2
    );
    let prop = |action: &str, gw: &str| {
        format!(
            "Action={action}&{V}&RouteTableId={}&GatewayId={gw}",
            rtb("app-rt")
        )
    };
    s.ok(&prop("DisableVgwRoutePropagation", &vgw("vgw")));
    assert!(s.t.route_tables[0].propagating_vgws.is_empty());
    s.ok(&prop("EnableVgwRoutePropagation", &vgw("vgw")));
    assert_eq!(s.t.route_tables[0].propagating_vgws.len(), 1);
    // A detached gateway cannot propagate, nor be routed to.
    s.ok(&format!("Action=CreateVpnGateway&{V}&Type=ipsec.1&TagSpecification.1.ResourceType=vpn-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=spare"));
    s.err(
        &prop("EnableVgwRoutePropagation", &vgw("spare")),
        400,
        "Gateway.NotAttached",
    );
    s.err(
        &create("172.19.0.0/16", &vgw("spare")),
        400,
        "InvalidParameterValue",
    );
}

#[test]
fn customer_gateways_are_created_described_and_deleted() {
    let mut s = session();
    let body = s.ok(&format!("Action=DescribeCustomerGateways&{V}"));
    assert_eq!(count(&body, "<customerGatewayId>"), 2);
    assert_eq!(first(&body, "customerGatewayId"), cgw("hq"));
    assert_eq!(first(&body, "ipAddress"), "203.0.113.60");
    assert_eq!(first(&body, "bgpAsn"), "65001");
    assert_eq!(first(&body, "deviceName"), "hq-firewall");
    assert_eq!(first(&body, "type"), "ipsec.1");
    for (filter, value, hits) in [
        ("customer-gateway-id", cgw("branch"), 1),
        ("bgp-asn", "65002".into(), 1),
        ("ip-address", "203.0.113.60".into(), 1),
        ("state", "available".into(), 2),
        ("type", "ipsec.1".into(), 2),
        ("tag:Name", "hq".into(), 1),
    ] {
        let body = s.ok(&format!(
            "Action=DescribeCustomerGateways&{V}&Filter.1.Name={filter}&Filter.1.Value.1={value}"
        ));
        assert_eq!(
            count(&body, "<customerGatewayId>"),
            hits,
            "{filter}={value}"
        );
    }
    let body = s.ok(&format!(
        "Action=CreateCustomerGateway&{V}&Type=ipsec.1&PublicIp=198.51.100.70&TagSpecification.1.ResourceType=customer-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=dc"
    ));
    assert_eq!(first(&body, "customerGatewayId"), cgw("dc"));
    assert_eq!(first(&body, "bgpAsn"), "65000");
    let body = s.ok(&format!(
        "Action=CreateCustomerGateway&{V}&Type=ipsec.1&IpAddress=198.51.100.71&BgpAsn=4200000000&DeviceName=edge"
    ));
    assert_eq!(first(&body, "bgpAsn"), "4200000000");
    assert_eq!(first(&body, "deviceName"), "edge");
    // The same address and ASN answer the existing gateway, unchanged.
    let before = s.t.clone();
    let body = s.ok(&format!(
        "Action=CreateCustomerGateway&{V}&Type=ipsec.1&IpAddress=203.0.113.61&BgpAsn=65002"
    ));
    assert_eq!(first(&body, "customerGatewayId"), cgw("branch"));
    assert_eq!(s.t, before);
    // Taken (another ASN), private, reserved ASN, wrong type.
    for bad in [
        "Type=ipsec.1&IpAddress=203.0.113.61",
        "Type=ipsec.1&IpAddress=10.0.0.1",
        "Type=ipsec.1&IpAddress=198.51.100.72&BgpAsn=7224",
        "Type=ipsec.2&IpAddress=198.51.100.72",
    ] {
        s.err(
            &format!("Action=CreateCustomerGateway&{V}&{bad}"),
            400,
            "InvalidParameterValue",
        );
    }
    s.err(
        &format!("Action=CreateCustomerGateway&{V}&Type=ipsec.1"),
        400,
        "MissingParameter",
    );
    s.ok(&format!(
        "Action=DeleteCustomerGateway&{V}&CustomerGatewayId={}",
        cgw("hq")
    ));
    s.err(
        &format!(
            "Action=DeleteCustomerGateway&{V}&CustomerGatewayId={}",
            cgw("hq")
        ),
        400,
        "InvalidCustomerGatewayID.NotFound",
    );
    assert_eq!(s.t.customer_gateways.len(), 3);
    // Its address is free again; an Elastic IP may not take a customer gateway's.
    s.err(
        &format!("Action=AllocateAddress&{V}&Domain=vpc&Address=203.0.113.61"),
        400,
        "InvalidParameterValue",
    );
}
