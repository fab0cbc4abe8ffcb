//! Virtual private and customer gateways and VPN connections end to end, on
//! config/vpn.toml (VPC corp, table app-rt propagating vgw, customer gateways hq and
//! branch with BGP connections vpn-hq and vpn-branch to vgw): signed requests with
//! literal bodies, the XML answered, AWS's error codes, and the topology returned
//! (which reads back from its own file unchanged).

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

fn vpn(name: &str) -> String {
    ids::id(Kind::VpnConnection, name)
}

/// `CreateRoute` in app-rt of `dest` to `gw`.
fn create_route(dest: &str, gw: &str) -> String {
    format!(
        "Action=CreateRoute&{V}&RouteTableId={}&DestinationCidrBlock={dest}&GatewayId={gw}",
        rtb("app-rt")
    )
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
    s.ok(&create_route("172.16.0.0/16", &vgw("vgw")));
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
    // Its VPN connections still use it.
    let delete = format!("Action=DeleteVpnGateway&{V}&VpnGatewayId={}", vgw("vgw"));
    let msg = s.err(&delete, 400, "DependencyViolation");
    assert!(
        msg.contains("VPN connection &quot;vpn-hq&quot; uses it"),
        "{msg}"
    );
    for c in ["vpn-hq", "vpn-branch"] {
        s.ok(&format!(
            "Action=DeleteVpnConnection&{V}&VpnConnectionId={}",
            vpn(c)
        ));
    }
    s.ok(&delete);
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
    // No tunnel is up (no daemon): nothing is propagated, only the local route.
    assert_eq!(
        first(&body, "routeSet"),
        "<item><destinationCidrBlock>10.20.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><state>active</state><origin>CreateRouteTable</origin></item>"
    );
    let create = create_route;
    s.ok(&create("172.16.0.0/16", &vgw("vgw")));
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={}",
        rtb("app-rt")
    ));
    assert!(
        body.contains(&format!(
            "<item><destinationCidrBlock>172.16.0.0/16</destinationCidrBlock><gatewayId>{}</gatewayId><state>active</state><origin>CreateRoute</origin></item>",
            vgw("vgw")
        )),
        "{body}"
    );
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
    // hq has a VPN connection: deleted first, then hq.
    let delete = format!(
        "Action=DeleteCustomerGateway&{V}&CustomerGatewayId={}",
        cgw("hq")
    );
    let msg = s.err(&delete, 400, "InvalidParameterValue");
    assert!(
        msg.contains("customer gateway &quot;hq&quot; is used by VPN connection &quot;vpn-hq&quot;; delete it first"),
        "{msg}"
    );
    s.ok(&format!(
        "Action=DeleteVpnConnection&{V}&VpnConnectionId={}",
        vpn("vpn-hq")
    ));
    s.ok(&delete);
    s.err(
        &format!(
            "Action=DeleteCustomerGateway&{V}&CustomerGatewayId={}",
            cgw("hq")
        ),
        400,
        "InvalidCustomerGatewayID.NotFound",
    );
    assert_eq!(s.t.customer_gateways.len(), 3);
    // An Elastic IP may take neither a customer gateway's address (its site is an
    // internet host) nor a tunnel's outside address.
    for used in ["203.0.113.61", "192.0.2.252"] {
        s.err(
            &format!("Action=AllocateAddress&{V}&Domain=vpc&Address={used}"),
            400,
            "InvalidAddress.InUse",
        );
    }
    // hq's address is free again.
    s.ok(&format!(
        "Action=AllocateAddress&{V}&Domain=vpc&Address=203.0.113.60"
    ));
}

/// A tunnel's `vgwTelemetry` item.
fn telemetry(outside: &str, up: bool, message: &str, routes: usize) -> String {
    format!(
        "<item><outsideIpAddress>{outside}</outsideIpAddress><status>{}</status><lastStatusChange>1970-01-01T00:00:00.000Z</lastStatusChange><statusMessage>{message}</statusMessage><acceptedRouteCount>{routes}</acceptedRouteCount></item>",
        if up { "UP" } else { "DOWN" }
    )
}

/// A tunnel's `tunnelOptionSet` item.
fn tunnel_option(
    outside: &str,
    cidr: &str,
    psk: &str,
    lifetimes: (u32, u32),
    dpd: u32,
    ike: &[&str],
) -> String {
    let ike: String = ike
        .iter()
        .map(|v| format!("<item><value>{v}</value></item>"))
        .collect();
    format!(
        "<item><outsideIpAddress>{outside}</outsideIpAddress><tunnelInsideCidr>{cidr}</tunnelInsideCidr><preSharedKey>{psk}</preSharedKey><phase1LifetimeSeconds>{}</phase1LifetimeSeconds><phase2LifetimeSeconds>{}</phase2LifetimeSeconds><dpdTimeoutSeconds>{dpd}</dpdTimeoutSeconds><ikeVersionSet>{ike}</ikeVersionSet></item>",
        lifetimes.0, lifetimes.1
    )
}

#[test]
fn vpn_connections_are_described_and_filtered() {
    let mut s = session();
    let body = s.ok(&format!("Action=DescribeVpnConnections&{V}"));
    assert_eq!(count(&body, "<vpnConnectionId>"), 2);
    let body = s.ok(&format!(
        "Action=DescribeVpnConnections&{V}&VpnConnectionId.1={}",
        vpn("vpn-hq")
    ));
    assert_eq!(count(&body, "<vpnConnectionId>"), 1);
    assert_eq!(first(&body, "vpnConnectionId"), vpn("vpn-hq"));
    assert_eq!(first(&body, "customerGatewayId"), cgw("hq"));
    assert_eq!(first(&body, "vpnGatewayId"), vgw("vgw"));
    assert_eq!(first(&body, "category"), "VPN");
    assert_eq!(first(&body, "state"), "available");
    assert_eq!(first(&body, "type"), "ipsec.1");
    let both = ["ikev1", "ikev2"];
    assert_eq!(
        first(&body, "options"),
        format!(
            "<staticRoutesOnly>false</staticRoutesOnly><tunnelInsideIpVersion>ipv4</tunnelInsideIpVersion><tunnelOptionSet>{}{}</tunnelOptionSet>",
            tunnel_option(
                "192.0.2.254",
                "169.254.10.0/30",
                "hq.tunnel1.secret",
                (28800, 3600),
                30,
                &both
            ),
            tunnel_option(
                "192.0.2.253",
                "169.254.10.4/30",
                "hq.tunnel2.secret",
                (28800, 3600),
                30,
                &both
            ),
        )
    );
    assert_eq!(first(&body, "routes"), "");
    assert_eq!(
        first(&body, "tagSet"),
        "<item><key>Name</key><value>vpn-hq</value></item>"
    );
    // No daemon: both tunnels DOWN.
    assert_eq!(
        first(&body, "vgwTelemetry"),
        format!(
            "{}{}",
            telemetry("192.0.2.254", false, "IPSEC IS DOWN", 0),
            telemetry("192.0.2.253", false, "IPSEC IS DOWN", 0)
        )
    );
    // The customer gateway's configuration, in AWS's shape (escaped).
    let config = first(&body, "customerGatewayConfiguration");
    assert!(
        config.starts_with(&format!(
            "&lt;?xml version=&quot;1.0&quot; encoding=&quot;UTF-8&quot;?&gt;\n&lt;vpn_connection id=&quot;{}&quot;&gt;&lt;customer_gateway_id&gt;{}&lt;/customer_gateway_id&gt;&lt;vpn_gateway_id&gt;{}&lt;/vpn_gateway_id&gt;&lt;vpn_connection_type&gt;ipsec.1&lt;/vpn_connection_type&gt;&lt;ipsec_tunnel&gt;&lt;customer_gateway&gt;&lt;tunnel_outside_address&gt;&lt;ip_address&gt;203.0.113.60&lt;/ip_address&gt;&lt;/tunnel_outside_address&gt;&lt;tunnel_inside_address&gt;&lt;ip_address&gt;169.254.10.2&lt;/ip_address&gt;&lt;network_mask&gt;255.255.255.252&lt;/network_mask&gt;&lt;network_cidr&gt;30&lt;/network_cidr&gt;&lt;/tunnel_inside_address&gt;&lt;bgp&gt;&lt;asn&gt;65001&lt;/asn&gt;&lt;hold_time&gt;30&lt;/hold_time&gt;&lt;/bgp&gt;&lt;/customer_gateway&gt;&lt;vpn_gateway&gt;&lt;tunnel_outside_address&gt;&lt;ip_address&gt;192.0.2.254&lt;/ip_address&gt;",
            vpn("vpn-hq"),
            cgw("hq"),
            vgw("vgw")
        )),
        "{config}"
    );
    assert_eq!(count(config, "&lt;ipsec_tunnel&gt;"), 2);
    assert_eq!(
        count(
            config,
            "&lt;pre_shared_key&gt;hq.tunnel2.secret&lt;/pre_shared_key&gt;"
        ),
        1
    );
    for (filter, value, hits) in [
        ("vpn-connection-id", vpn("vpn-hq"), 1),
        ("state", "available".into(), 2),
        ("state", "deleted".into(), 0),
        ("type", "ipsec.1".into(), 2),
        ("customer-gateway-id", cgw("branch"), 1),
        ("vpn-gateway-id", vgw("vgw"), 2),
        ("bgp-asn", "65001".into(), 1),
        ("option.static-routes-only", "false".into(), 2),
        ("option.static-routes-only", "true".into(), 0),
        ("route.destination-cidr-block", "172.16.0.0/16".into(), 0),
        ("transit-gateway-id", "tgw-*".into(), 0),
        ("tag:Name", "vpn-branch".into(), 1),
        ("tag-key", "Name".into(), 2),
    ] {
        let body = s.ok(&format!(
            "Action=DescribeVpnConnections&{V}&Filter.1.Name={filter}&Filter.1.Value.1={value}"
        ));
        assert_eq!(count(&body, "<vpnConnectionId>"), hits, "{filter}={value}");
    }
    s.err(
        &format!("Action=DescribeVpnConnections&{V}&Filter.1.Name=nope&Filter.1.Value.1=x"),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!("Action=DescribeVpnConnections&{V}&VpnConnectionId.1=vpn-0123456789abcdef0"),
        400,
        "InvalidVpnConnectionID.NotFound",
    );
    // Another account sees neither vgw nor its connections.
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "us-east-1",
        &format!("Action=DescribeVpnConnections&{V}"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(count(&r.body, "<vpnConnectionId>"), 0, "{}", r.body);
}

#[test]
fn a_vpn_connection_is_created_described_and_deleted() {
    let mut s = session();
    s.ok(&format!(
        "Action=CreateCustomerGateway&{V}&Type=ipsec.1&IpAddress=198.51.100.80&BgpAsn=65010&TagSpecification.1.ResourceType=customer-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=lab"
    ));
    let options = "Options.TunnelOptions.1.TunnelInsideCidr=169.254.20.0/30&Options.TunnelOptions.1.PreSharedKey=lab.key_123&Options.TunnelOptions.1.DPDTimeoutSeconds=40&Options.TunnelOptions.1.Phase1LifetimeSeconds=14400&Options.TunnelOptions.1.Phase2LifetimeSeconds=1800&Options.TunnelOptions.1.IKEVersion.1.Value=ikev2";
    let create = |cgw_id: &str, vgw_id: &str, more: &str| {
        format!(
            "Action=CreateVpnConnection&{V}&Type=ipsec.1&CustomerGatewayId={cgw_id}&VpnGatewayId={vgw_id}{more}"
        )
    };
    let body = s.ok(&create(
        &cgw("lab"),
        &vgw("vgw"),
        &format!("&{options}&TagSpecification.1.ResourceType=vpn-connection&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=vpn-lab&TagSpecification.1.Tag.2.Key=env&TagSpecification.1.Tag.2.Value=test"),
    ));
    assert!(
        body.contains("<vpnConnection><customerGatewayConfiguration>"),
        "{body}"
    );
    assert_eq!(first(&body, "vpnConnectionId"), vpn("vpn-lab"));
    assert_eq!(first(&body, "customerGatewayId"), cgw("lab"));
    // Tunnel 1 as given; tunnel 2 with vpcd's defaults: the first inside /30 free on
    // vgw, a key derived from the name; outside addresses after the others'.
    assert_eq!(
        first(&body, "tunnelOptionSet"),
        format!(
            "{}{}",
            tunnel_option(
                "192.0.2.250",
                "169.254.20.0/30",
                "lab.key_123",
                (14400, 1800),
                40,
                &["ikev2"]
            ),
            tunnel_option(
                "192.0.2.249",
                "169.254.10.8/30",
                &vpc_config::default_pre_shared_key("vpn-lab", 1),
                (28800, 3600),
                30,
                &["ikev1", "ikev2"]
            ),
        )
    );
    assert_eq!(
        first(&body, "tagSet"),
        "<item><key>Name</key><value>vpn-lab</value></item><item><key>env</key><value>test</value></item>"
    );
    assert_eq!(
        first(&body, "vgwTelemetry"),
        format!(
            "{}{}",
            telemetry("192.0.2.250", false, "IPSEC IS DOWN", 0),
            telemetry("192.0.2.249", false, "IPSEC IS DOWN", 0)
        )
    );
    // In the configuration, and described like the others.
    let c = s.t.find_vpn_connection("vpn-lab").unwrap();
    assert!(!s.t.vpn_connection(c).static_routes_only);
    assert!(vpc_config::to_toml(&s.t).contains("[[vpn_connection]]\nname = \"vpn-lab\"\ncustomer_gateway = \"lab\"\nvpn_gateway = \"vgw\"\n"));
    let body = s.ok(&format!(
        "Action=DescribeVpnConnections&{V}&Filter.1.Name=tag:env&Filter.1.Value.1=test"
    ));
    assert_eq!(count(&body, "<vpnConnectionId>"), 1);
    assert_eq!(first(&body, "vpnConnectionId"), vpn("vpn-lab"));
    // Refused: unknown gateways, a second connection of a pair, bad options.
    s.err(
        &create("cgw-0123456789abcdef0", &vgw("vgw"), ""),
        400,
        "InvalidCustomerGatewayID.NotFound",
    );
    s.err(
        &create(&cgw("lab"), "vgw-0123456789abcdef0", ""),
        400,
        "InvalidVpnGatewayID.NotFound",
    );
    let msg = s.err(
        &create(&cgw("hq"), &vgw("vgw"), ""),
        400,
        "InvalidParameterValue",
    );
    assert!(msg.contains("AWS allows one connection per pair"), "{msg}");
    s.ok(&format!(
        "Action=CreateCustomerGateway&{V}&Type=ipsec.1&IpAddress=198.51.100.81&TagSpecification.1.ResourceType=customer-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=lab2"
    ));
    for bad in [
        "&Options.TunnelOptions.1.TunnelInsideCidr=169.254.1.0/30",
        "&Options.TunnelOptions.1.TunnelInsideCidr=169.254.20.0/30",
        "&Options.TunnelOptions.1.TunnelInsideCidr=nope",
        "&Options.TunnelOptions.1.PreSharedKey=0short",
        "&Options.TunnelOptions.1.DPDTimeoutSeconds=10",
        "&Options.TunnelOptions.1.Phase1LifetimeSeconds=-1",
        "&Options.TunnelOptions.2.Phase2LifetimeSeconds=28800",
        "&Options.TunnelOptions.1.IKEVersion.1.Value=ikev3",
        "&Options.TunnelOptions.1.PreSharedKey=a.key_123&Options.TunnelOptions.2.PreSharedKey=b.key_123&Options.TunnelOptions.3.PreSharedKey=c.key_123",
        "&Options.StaticRoutesOnly=maybe",
        "&Options.TunnelInsideIpVersion=ipv6",
        "&TransitGatewayId=tgw-0123456789abcdef0",
    ] {
        s.err(
            &create(&cgw("lab2"), &vgw("vgw"), bad),
            400,
            "InvalidParameterValue",
        );
    }
    s.err(
        &format!(
            "Action=CreateVpnConnection&{V}&Type=ipsec.2&CustomerGatewayId={}&VpnGatewayId={}",
            cgw("lab2"),
            vgw("vgw")
        ),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!(
            "Action=CreateVpnConnection&{V}&Type=ipsec.1&CustomerGatewayId={}",
            cgw("lab2")
        ),
        400,
        "MissingParameter",
    );
    assert_eq!(s.t.vpn_connections.len(), 3);
    // Deleted with its tags; its customer gateway may go then.
    let delete = format!(
        "Action=DeleteVpnConnection&{V}&VpnConnectionId={}",
        vpn("vpn-lab")
    );
    assert!(s.ok(&delete).contains("<return>true</return>"));
    s.err(&delete, 400, "InvalidVpnConnectionID.NotFound");
    s.err(
        &format!(
            "Action=DescribeVpnConnections&{V}&VpnConnectionId.1={}",
            vpn("vpn-lab")
        ),
        400,
        "InvalidVpnConnectionID.NotFound",
    );
    assert!(!s.t.tags.contains_key(&vpn("vpn-lab")));
    assert_eq!(s.t.vpn_connections.len(), 2);
    s.ok(&format!(
        "Action=DeleteCustomerGateway&{V}&CustomerGatewayId={}",
        cgw("lab")
    ));
}

#[test]
fn static_routes_of_a_static_vpn_connection() {
    let mut s = session();
    s.ok(&format!(
        "Action=CreateCustomerGateway&{V}&Type=ipsec.1&IpAddress=198.51.100.80&TagSpecification.1.ResourceType=customer-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=dc"
    ));
    let body = s.ok(&format!(
        "Action=CreateVpnConnection&{V}&Type=ipsec.1&CustomerGatewayId={}&VpnGatewayId={}&Options.StaticRoutesOnly=true&TagSpecification.1.ResourceType=vpn-connection&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=vpn-dc",
        cgw("dc"),
        vgw("vgw")
    ));
    assert_eq!(first(&body, "staticRoutesOnly"), "true");
    // A static connection's configuration has no BGP.
    assert_eq!(count(&body, "&lt;bgp&gt;"), 0);
    let route = |action: &str, c: &str, cidr: &str| {
        format!(
            "Action={action}&{V}&VpnConnectionId={}&DestinationCidrBlock={cidr}",
            vpn(c)
        )
    };
    s.ok(&route(
        "CreateVpnConnectionRoute",
        "vpn-dc",
        "172.18.0.0/16",
    ));
    s.ok(&route(
        "CreateVpnConnectionRoute",
        "vpn-dc",
        "172.19.0.0/16",
    ));
    let body = s.ok(&format!(
        "Action=DescribeVpnConnections&{V}&Filter.1.Name=route.destination-cidr-block&Filter.1.Value.1=172.18.0.0/16"
    ));
    assert_eq!(count(&body, "<vpnConnectionId>"), 1);
    assert_eq!(first(&body, "vpnConnectionId"), vpn("vpn-dc"));
    assert_eq!(
        first(&body, "routes"),
        "<item><destinationCidrBlock>172.18.0.0/16</destinationCidrBlock><source>Static</source><state>available</state></item><item><destinationCidrBlock>172.19.0.0/16</destinationCidrBlock><source>Static</source><state>available</state></item>"
    );
    let body = s.ok(&format!(
        "Action=DescribeVpnConnections&{V}&Filter.1.Name=option.static-routes-only&Filter.1.Value.1=true"
    ));
    assert_eq!(count(&body, "<vpnConnectionId>"), 1);
    s.err(
        &route("CreateVpnConnectionRoute", "vpn-dc", "172.18.0.0/16"),
        400,
        "RouteAlreadyExists",
    );
    s.err(
        &route("CreateVpnConnectionRoute", "vpn-dc", "172.18.0.1/16"),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &route("CreateVpnConnectionRoute", "vpn-dc", "nope"),
        400,
        "InvalidParameterValue",
    );
    let msg = s.err(
        &route("CreateVpnConnectionRoute", "vpn-hq", "172.18.0.0/16"),
        400,
        "InvalidVpnConnection.InvalidType",
    );
    assert!(msg.contains("uses BGP"), "{msg}");
    s.err(
        &route("DeleteVpnConnectionRoute", "vpn-dc", "172.20.0.0/16"),
        400,
        "InvalidRoute.NotFound",
    );
    s.err(
        &format!(
            "Action=CreateVpnConnectionRoute&{V}&VpnConnectionId=vpn-0123456789abcdef0&DestinationCidrBlock=172.18.0.0/16"
        ),
        400,
        "InvalidVpnConnectionID.NotFound",
    );
    s.ok(&route(
        "DeleteVpnConnectionRoute",
        "vpn-dc",
        "172.18.0.0/16",
    ));
    let c = s.t.find_vpn_connection("vpn-dc").unwrap();
    assert_eq!(
        s.t.vpn_connection(c).routes,
        ["172.19.0.0/16".parse::<ipnet::Ipv4Net>().unwrap()]
    );
}

#[test]
fn telemetry_and_propagated_routes_follow_the_tunnels() {
    let mut s = session();
    s.ok(&create_route("172.17.0.0/16", &vgw("vgw")));
    // What the daemon would observe: vpn-hq's tunnel 1 up, two routes learned over BGP.
    let hq = s.t.find_vpn_connection("vpn-hq").unwrap().index();
    s.t.vpn_connections[hq].live = vpc_config::VpnLive {
        up: [true, false],
        learned: vec![
            "172.16.0.0/16".parse().unwrap(),
            "172.16.5.0/24".parse().unwrap(),
        ],
    };
    let body = s.ok(&format!(
        "Action=DescribeVpnConnections&{V}&VpnConnectionId.1={}",
        vpn("vpn-hq")
    ));
    assert_eq!(
        first(&body, "vgwTelemetry"),
        format!(
            "{}{}",
            telemetry("192.0.2.254", true, "2 BGP ROUTES", 2),
            telemetry("192.0.2.253", false, "IPSEC IS DOWN", 0)
        )
    );
    // Propagated into app-rt after its own routes.
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={}",
        rtb("app-rt")
    ));
    let propagated = |dest: &str| {
        format!(
            "<item><destinationCidrBlock>{dest}</destinationCidrBlock><gatewayId>{}</gatewayId><state>active</state><origin>EnableVgwRoutePropagation</origin></item>",
            vgw("vgw")
        )
    };
    assert_eq!(
        first(&body, "routeSet"),
        format!(
            "<item><destinationCidrBlock>10.20.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><state>active</state><origin>CreateRouteTable</origin></item><item><destinationCidrBlock>172.17.0.0/16</destinationCidrBlock><gatewayId>{}</gatewayId><state>active</state><origin>CreateRoute</origin></item>{}{}",
            vgw("vgw"),
            propagated("172.16.0.0/16"),
            propagated("172.16.5.0/24")
        )
    );
    for (filter, value, hits) in [
        ("route.origin", "EnableVgwRoutePropagation", 1),
        ("route.destination-cidr-block", "172.16.5.0/24", 1),
        ("route.gateway-id", vgw("vgw").as_str(), 1),
        ("route.destination-cidr-block", "172.16.9.0/24", 0),
        ("route.state", "active", 2),
    ] {
        let body = s.ok(&format!(
            "Action=DescribeRouteTables&{V}&Filter.1.Name={filter}&Filter.1.Value.1={value}"
        ));
        // One propagatingVgwSet per table.
        assert_eq!(
            count(&body, "<propagatingVgwSet>"),
            hits,
            "{filter}={value}"
        );
    }
    // A change through the API keeps what the daemon observed (never written).
    let body = format!(
        "Action=CreateTags&{V}&ResourceId.1={}&Tag.1.Key=env&Tag.1.Value=prod",
        vpn("vpn-hq")
    );
    let headers = signed(KEY, "ec2", "us-east-1", &body);
    let req = Request {
        method: "POST",
        path_and_query: "/",
        headers: &headers,
        body: body.as_bytes(),
    };
    let (resp, new) = s.api.handle(&req, &s.t, now());
    assert_eq!(resp.status, 200, "{}", resp.body);
    let new = new.unwrap();
    assert_eq!(new.vpn_connections[hq].live, s.t.vpn_connections[hq].live);
    assert_eq!(new.tags[&vpn("vpn-hq")]["env"], "prod");
}
