//! The fabric actions end to end (VPC peering, transit gateways, flow logs): signed
//! requests against a topology, the XML answered, and the topology returned, which
//! reads back from its own file unchanged.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

/// Two VPCs of account 123456789012 (`a` 10.1/16 with subnet `a-1`, `b` 10.2/16 with
/// `b-1`) and one of 444455556666 (`c` 10.3/16 with `c-1`), all in us-east-1.
fn three_vpcs() -> Session {
    Session::new(
        vpc_config::parse(
            r#"
[[vpc]]
name = "a"
cidr = "10.1.0.0/16"

[[vpc]]
name = "b"
cidr = "10.2.0.0/16"

[[vpc]]
name = "c"
cidr = "10.3.0.0/16"
owner_id = "444455556666"

[[subnet]]
name = "a-1"
vpc = "a"
cidr = "10.1.1.0/24"
az = "a"

[[subnet]]
name = "b-1"
vpc = "b"
cidr = "10.2.1.0/24"
az = "a"

[[subnet]]
name = "c-1"
vpc = "c"
cidr = "10.3.1.0/24"
az = "a"

[[instance]]
name = "web"
subnet = "a-1"
private_ip = "10.1.1.10"
"#,
            "three",
        )
        .unwrap(),
    )
}

fn vpc(name: &str) -> String {
    ids::id(Kind::Vpc, name)
}

fn subnet(name: &str) -> String {
    ids::id(Kind::Subnet, name)
}

/// The file read back equals the topology (what the daemon saves and reloads).
fn round_trips(t: &Topology) {
    let text = vpc_config::to_toml(t);
    let back = vpc_config::parse(&text, "back").unwrap();
    assert_eq!(&back, t, "{text}");
    assert_eq!(vpc_config::to_toml(&back), text);
}

#[test]
fn peering_lifecycle_within_an_account() {
    let mut s = three_vpcs();
    let body = s.ok(&format!(
        "Action=CreateVpcPeeringConnection&{V}&VpcId={}&PeerVpcId={}&TagSpecification.1.ResourceType=vpc-peering-connection&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a-b",
        vpc("a"),
        vpc("b")
    ));
    let pcx = ids::id(Kind::PeeringConnection, "a-b");
    assert_eq!(first(&body, "vpcPeeringConnectionId"), pcx);
    assert!(body.contains("<status><code>pending-acceptance</code><message>Pending Acceptance by 123456789012</message></status>"), "{body}");
    assert!(body.contains("<accepterVpcInfo><cidrBlock>10.2.0.0/16</cidrBlock><cidrBlockSet><item><cidrBlock>10.2.0.0/16</cidrBlock></item></cidrBlockSet><ownerId>123456789012</ownerId><peeringOptions>"), "{body}");
    assert!(
        body.contains(&format!(
            "<vpcId>{}</vpcId><region>us-east-1</region></requesterVpcInfo>",
            vpc("a")
        )),
        "{body}"
    );
    // AWS: pending even within one account, and the file says so.
    assert_eq!(
        s.t.vpc_peering_connections[0].status,
        vpc_config::PeeringStatus::PendingAcceptance
    );
    round_trips(&s.t);
    // A second connection between the same VPCs is refused.
    s.err(
        &format!(
            "Action=CreateVpcPeeringConnection&{V}&VpcId={}&PeerVpcId={}",
            vpc("b"),
            vpc("a")
        ),
        400,
        "VpcPeeringConnectionAlreadyExists",
    );
    let described = s.ok(&format!(
        "Action=DescribeVpcPeeringConnections&{V}&Filter.1.Name=status-code&Filter.1.Value.1=pending-acceptance&Filter.2.Name=requester-vpc-info.vpc-id&Filter.2.Value.1={}",
        vpc("a")
    ));
    assert_eq!(
        count(&described, "<vpcPeeringConnectionId>"),
        1,
        "{described}"
    );
    let none = s.ok(&format!(
        "Action=DescribeVpcPeeringConnections&{V}&Filter.1.Name=accepter-vpc-info.vpc-id&Filter.1.Value.1={}",
        vpc("a")
    ));
    assert_eq!(count(&none, "<vpcPeeringConnectionId>"), 0, "{none}");
    let accepted = s.ok(&format!(
        "Action=AcceptVpcPeeringConnection&{V}&VpcPeeringConnectionId={pcx}"
    ));
    assert!(
        accepted.contains("<code>active</code><message>Active</message>"),
        "{accepted}"
    );
    s.err(
        &format!("Action=AcceptVpcPeeringConnection&{V}&VpcPeeringConnectionId={pcx}"),
        400,
        "InvalidStateTransition",
    );
    let options = s.ok(&format!(
        "Action=ModifyVpcPeeringConnectionOptions&{V}&VpcPeeringConnectionId={pcx}&RequesterPeeringConnectionOptions.AllowDnsResolutionFromRemoteVpc=false"
    ));
    assert!(options.contains("<requesterPeeringConnectionOptions><allowDnsResolutionFromRemoteVpc>false</allowDnsResolutionFromRemoteVpc>"), "{options}");
    s.ok(&format!(
        "Action=DeleteVpcPeeringConnection&{V}&VpcPeeringConnectionId={pcx}"
    ));
    let after = s.ok(&format!(
        "Action=DescribeVpcPeeringConnections&{V}&VpcPeeringConnectionId.1={pcx}"
    ));
    assert!(after.contains("<status><code>deleted</code>"), "{after}");
    assert!(
        after.contains("<tagSet><item><key>Name</key><value>a-b</value></item></tagSet>"),
        "{after}"
    );
    round_trips(&s.t);
}

#[test]
fn peering_across_accounts_is_accepted_by_the_peer() {
    let mut s = three_vpcs();
    // The peer VPC must be the named owner's.
    s.err(
        &format!(
            "Action=CreateVpcPeeringConnection&{V}&VpcId={}&PeerVpcId={}",
            vpc("a"),
            vpc("c")
        ),
        400,
        "InvalidVpcID.NotFound",
    );
    let body = s.ok(&format!(
        "Action=CreateVpcPeeringConnection&{V}&VpcId={}&PeerVpcId={}&PeerOwnerId=444455556666&PeerRegion=us-east-1",
        vpc("a"),
        vpc("c")
    ));
    let pcx = first(&body, "vpcPeeringConnectionId").to_owned();
    assert!(
        body.contains("Pending Acceptance by 444455556666"),
        "{body}"
    );
    // The requester cannot accept; the peer sees it and accepts.
    s.err(
        &format!("Action=AcceptVpcPeeringConnection&{V}&VpcPeeringConnectionId={pcx}"),
        400,
        "OperationNotPermitted",
    );
    let theirs = s.call_as(
        OTHER_KEY,
        "ec2",
        "us-east-1",
        &format!("Action=DescribeVpcPeeringConnections&{V}"),
    );
    assert!(theirs.body.contains(&pcx), "{}", theirs.body);
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "us-east-1",
        &format!("Action=AcceptVpcPeeringConnection&{V}&VpcPeeringConnectionId={pcx}"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<code>active</code>"), "{}", r.body);
    // A third party in another region sees nothing.
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "eu-west-1",
        &format!("Action=DescribeVpcPeeringConnections&{V}"),
    );
    assert_eq!(count(&r.body, "<vpcPeeringConnectionId>"), 0, "{}", r.body);
}

#[test]
fn transit_gateway_without_defaults() {
    let mut s = three_vpcs();
    let body = s.ok(&format!(
        "Action=CreateTransitGateway&{V}&Description=hub&Options.AmazonSideAsn=64513&Options.DefaultRouteTableAssociation=disable&Options.DefaultRouteTablePropagation=disable&Options.DnsSupport=enable&Options.VpnEcmpSupport=enable&TagSpecification.1.ResourceType=transit-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=hub"
    ));
    let tgw = ids::id(Kind::TransitGateway, "hub");
    assert_eq!(first(&body, "transitGatewayId"), tgw);
    assert!(body.contains("<state>available</state><ownerId>123456789012</ownerId><description>hub</description><options><amazonSideAsn>64513</amazonSideAsn>"), "{body}");
    assert!(!body.contains("DefaultRouteTableId"), "{body}");
    assert!(s.t.tgw_route_tables.is_empty());
    s.err(
        &format!("Action=CreateTransitGateway&{V}&Options.DnsSupport=disable"),
        400,
        "InvalidParameterValue",
    );
    let described = s.ok(&format!(
        "Action=DescribeTransitGateways&{V}&TransitGatewayIds.1={tgw}&Filter.1.Name=state&Filter.1.Value.1=available"
    ));
    assert_eq!(count(&described, "<transitGatewayId>"), 1, "{described}");
    // Another account does not see it.
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "us-east-1",
        &format!("Action=DescribeTransitGateways&{V}"),
    );
    assert_eq!(count(&r.body, "<transitGatewayId>"), 0, "{}", r.body);

    let body = s.ok(&format!(
        "Action=CreateTransitGatewayRouteTable&{V}&TransitGatewayId={tgw}&TagSpecifications.1.ResourceType=transit-gateway-route-table&TagSpecifications.1.Tag.1.Key=Name&TagSpecifications.1.Tag.1.Value=spokes"
    ));
    let rtb = ids::id(Kind::TgwRouteTable, "spokes");
    assert_eq!(first(&body, "transitGatewayRouteTableId"), rtb);
    assert!(
        body.contains("<defaultAssociationRouteTable>false</defaultAssociationRouteTable>"),
        "{body}"
    );

    let body = s.ok(&format!(
        "Action=CreateTransitGatewayVpcAttachment&{V}&TransitGatewayId={tgw}&VpcId={}&SubnetIds.1={}&Options.DnsSupport=enable&Options.Ipv6Support=disable&Options.ApplianceModeSupport=enable&TagSpecifications.1.ResourceType=transit-gateway-attachment&TagSpecifications.1.Tag.1.Key=Name&TagSpecifications.1.Tag.1.Value=att-a",
        vpc("a"),
        subnet("a-1")
    ));
    let att = ids::id(Kind::TgwAttachment, "att-a");
    assert_eq!(first(&body, "transitGatewayAttachmentId"), att);
    assert!(
        body.contains(&format!(
            "<state>available</state><subnetIds><item>{}</item></subnetIds>",
            subnet("a-1")
        )),
        "{body}"
    );
    assert!(
        body.contains("<applianceModeSupport>enable</applianceModeSupport>"),
        "{body}"
    );
    // DefaultRouteTableAssociation=disable: associated nowhere.
    assert!(
        s.t.tgw_route_tables
            .iter()
            .all(|r| r.associations.is_empty())
    );
    let none = s.ok(&format!(
        "Action=GetTransitGatewayRouteTableAssociations&{V}&TransitGatewayRouteTableId={rtb}"
    ));
    assert_eq!(count(&none, "<transitGatewayAttachmentId>"), 0, "{none}");

    let body = s.ok(&format!(
        "Action=AssociateTransitGatewayRouteTable&{V}&TransitGatewayRouteTableId={rtb}&TransitGatewayAttachmentId={att}"
    ));
    assert!(body.contains(&format!("<association><transitGatewayRouteTableId>{rtb}</transitGatewayRouteTableId><transitGatewayAttachmentId>{att}</transitGatewayAttachmentId><resourceId>{}</resourceId><resourceType>vpc</resourceType><state>associated</state></association>", vpc("a"))), "{body}");
    s.err(
        &format!("Action=AssociateTransitGatewayRouteTable&{V}&TransitGatewayRouteTableId={rtb}&TransitGatewayAttachmentId={att}"),
        400,
        "Resource.AlreadyAssociated",
    );
    let assocs = s.ok(&format!(
        "Action=GetTransitGatewayRouteTableAssociations&{V}&TransitGatewayRouteTableId={rtb}&Filter.1.Name=transit-gateway-attachment-id&Filter.1.Value.1={att}"
    ));
    assert!(assocs.contains(&format!("<associations><item><transitGatewayAttachmentId>{att}</transitGatewayAttachmentId><resourceId>{}</resourceId><resourceType>vpc</resourceType><state>associated</state></item></associations>", vpc("a"))), "{assocs}");

    s.ok(&format!(
        "Action=EnableTransitGatewayRouteTablePropagation&{V}&TransitGatewayRouteTableId={rtb}&TransitGatewayAttachmentId={att}"
    ));
    let props = s.ok(&format!(
        "Action=GetTransitGatewayRouteTablePropagations&{V}&TransitGatewayRouteTableId={rtb}"
    ));
    assert!(props.contains(&format!("<transitGatewayRouteTablePropagations><item><transitGatewayAttachmentId>{att}</transitGatewayAttachmentId>")), "{props}");
    assert!(props.contains("<state>enabled</state>"), "{props}");

    let body = s.ok(&format!(
        "Action=CreateTransitGatewayRoute&{V}&TransitGatewayRouteTableId={rtb}&DestinationCidrBlock=10.99.0.0%2F16&TransitGatewayAttachmentId={att}"
    ));
    assert!(body.contains("<route><destinationCidrBlock>10.99.0.0/16</destinationCidrBlock><transitGatewayAttachments><item>"), "{body}");
    assert!(
        body.contains("<type>static</type><state>active</state></route>"),
        "{body}"
    );
    s.ok(&format!(
        "Action=CreateTransitGatewayRoute&{V}&TransitGatewayRouteTableId={rtb}&DestinationCidrBlock=10.98.0.0%2F16&Blackhole=true"
    ));
    s.err(
        &format!("Action=CreateTransitGatewayRoute&{V}&TransitGatewayRouteTableId={rtb}&DestinationCidrBlock=10.98.0.0%2F16&Blackhole=true"),
        400,
        "RouteAlreadyExists",
    );
    let found = s.ok(&format!(
        "Action=SearchTransitGatewayRoutes&{V}&TransitGatewayRouteTableId={rtb}&Filter.1.Name=route-search.exact-match&Filter.1.Value.1=10.99.0.0%2F16&Filter.2.Name=type&Filter.2.Value.1=static"
    ));
    assert_eq!(count(&found, "<destinationCidrBlock>"), 1, "{found}");
    assert!(found.contains("<state>active</state>"), "{found}");
    let propagated = s.ok(&format!(
        "Action=SearchTransitGatewayRoutes&{V}&TransitGatewayRouteTableId={rtb}&Filter.1.Name=type&Filter.1.Value.1=propagated"
    ));
    assert!(
        propagated.contains("<destinationCidrBlock>10.1.0.0/16</destinationCidrBlock>"),
        "{propagated}"
    );
    let blackholes = s.ok(&format!(
        "Action=SearchTransitGatewayRoutes&{V}&TransitGatewayRouteTableId={rtb}&Filter.1.Name=state&Filter.1.Value.1=blackhole"
    ));
    assert!(blackholes.contains("<destinationCidrBlock>10.98.0.0/16</destinationCidrBlock><type>static</type><state>blackhole</state>"), "{blackholes}");
    round_trips(&s.t);

    // The gateway cannot go while the attachment exists.
    s.err(
        &format!("Action=DeleteTransitGateway&{V}&TransitGatewayId={tgw}"),
        400,
        "DependencyViolation",
    );
    let body = s.ok(&format!(
        "Action=DeleteTransitGatewayVpcAttachment&{V}&TransitGatewayAttachmentId={att}"
    ));
    assert!(body.contains("<state>deleted</state>"), "{body}");
    // Terraform's waiter: the deleted attachment is still listed, as deleted.
    let after = s.ok(&format!(
        "Action=DescribeTransitGatewayVpcAttachments&{V}&TransitGatewayAttachmentIds.1={att}"
    ));
    assert!(
        after.contains(&format!(
            "<transitGatewayAttachmentId>{att}</transitGatewayAttachmentId>"
        )),
        "{after}"
    );
    assert!(after.contains("<state>deleted</state>"), "{after}");
    // Its static route stays, as a blackhole; its propagation went.
    let routes = s.ok(&format!(
        "Action=SearchTransitGatewayRoutes&{V}&TransitGatewayRouteTableId={rtb}&Filter.1.Name=route-search.exact-match&Filter.1.Value.1=10.99.0.0%2F16"
    ));
    assert!(routes.contains("<state>blackhole</state>"), "{routes}");
    s.ok(&format!(
        "Action=DeleteTransitGatewayRoute&{V}&TransitGatewayRouteTableId={rtb}&DestinationCidrBlock=10.99.0.0%2F16"
    ));
    round_trips(&s.t);
    s.ok(&format!(
        "Action=DeleteTransitGatewayRouteTable&{V}&TransitGatewayRouteTableId={rtb}"
    ));
    let body = s.ok(&format!(
        "Action=DeleteTransitGateway&{V}&TransitGatewayId={tgw}"
    ));
    assert!(body.contains("<state>deleted</state>"), "{body}");
    assert!(s.t.transit_gateways.is_empty() && s.t.tgw_attachments.is_empty());
}

#[test]
fn transit_gateway_defaults_and_shared_attachments() {
    let mut s = three_vpcs();
    let body = s.ok(&format!(
        "Action=CreateTransitGateway&{V}&Options.AutoAcceptSharedAttachments=disable"
    ));
    let tgw = first(&body, "transitGatewayId").to_owned();
    let default = first(&body, "associationDefaultRouteTableId").to_owned();
    assert_eq!(first(&body, "propagationDefaultRouteTableId"), default);
    let tables = s.ok(&format!("Action=DescribeTransitGatewayRouteTables&{V}&Filter.1.Name=transit-gateway-id&Filter.1.Value.1={tgw}"));
    assert!(tables.contains(&format!("<transitGatewayRouteTableId>{default}</transitGatewayRouteTableId><transitGatewayId>{tgw}</transitGatewayId><state>available</state><defaultAssociationRouteTable>true</defaultAssociationRouteTable><defaultPropagationRouteTable>true</defaultPropagationRouteTable>")), "{tables}");
    let body = s.ok(&format!(
        "Action=CreateTransitGatewayVpcAttachment&{V}&TransitGatewayId={tgw}&VpcId={}&SubnetIds.1={}",
        vpc("b"),
        subnet("b-1")
    ));
    let att = first(&body, "transitGatewayAttachmentId").to_owned();
    // Associated with and propagating into the default table.
    let assocs = s.ok(&format!(
        "Action=GetTransitGatewayRouteTableAssociations&{V}&TransitGatewayRouteTableId={default}"
    ));
    assert!(assocs.contains(&att), "{assocs}");
    // Disassociated from the default table, it stays so in the file.
    s.ok(&format!(
        "Action=DisassociateTransitGatewayRouteTable&{V}&TransitGatewayRouteTableId={default}&TransitGatewayAttachmentId={att}"
    ));
    round_trips(&s.t);
    let assocs = s.ok(&format!(
        "Action=GetTransitGatewayRouteTableAssociations&{V}&TransitGatewayRouteTableId={default}"
    ));
    assert!(!assocs.contains(&att), "{assocs}");

    // Account 444455556666 cannot attach to a gateway not shared with it.
    let other = format!(
        "Action=CreateTransitGatewayVpcAttachment&{V}&TransitGatewayId={tgw}&VpcId={}&SubnetIds.1={}",
        vpc("c"),
        subnet("c-1")
    );
    let r = s.call_as(OTHER_KEY, "ec2", "us-east-1", &other);
    assert_eq!(r.status, 400, "{}", r.body);
    // Shared, its attachment waits for the owner.
    let mut t = s.t.clone();
    t.resource_shares.push(vpc_config::ResourceShare {
        name: "share".into(),
        resources: vec![vpc_config::TransitGatewayId(0)],
        principals: vec!["444455556666".into()],
    });
    s.t = vpc_config::parse(&vpc_config::to_toml(&t), "shared").unwrap();
    let r = s.call_as(OTHER_KEY, "ec2", "us-east-1", &other);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<state>pendingAcceptance</state>"),
        "{}",
        r.body
    );
    let theirs = first(&r.body, "transitGatewayAttachmentId").to_owned();
    let accept =
        format!("Action=AcceptTransitGatewayVpcAttachment&{V}&TransitGatewayAttachmentId={theirs}");
    let r = s.call_as(OTHER_KEY, "ec2", "us-east-1", &accept);
    assert_eq!(r.status, 400, "{}", r.body);
    let body = s.ok(&accept);
    assert!(body.contains("<state>available</state>"), "{body}");
    let listed = s.ok(&format!(
        "Action=DescribeTransitGatewayVpcAttachments&{V}&Filter.1.Name=vpc-id&Filter.1.Value.1={}",
        vpc("c")
    ));
    assert_eq!(
        count(&listed, "<transitGatewayAttachmentId>"),
        1,
        "{listed}"
    );
    round_trips(&s.t);
}

#[test]
fn flow_logs_lifecycle() {
    let mut s = three_vpcs();
    let body = s.ok(&format!(
        "Action=CreateFlowLogs&{V}&ResourceType=VPC&ResourceId.1={}&TrafficType=REJECT&LogDestinationType=cloud-watch-logs&LogDestination=arn%3Aaws%3Alogs%3Aus-east-1%3A123456789012%3Alog-group%3A%2Faws%2Fflows&DeliverLogsPermissionArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fflows&MaxAggregationInterval=60&TagSpecification.1.ResourceType=vpc-flow-log&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a-flows",
        vpc("a")
    ));
    let fl = ids::id(Kind::FlowLog, "a-flows");
    assert!(
        body.contains(&format!("<flowLogIdSet><item>{fl}</item></flowLogIdSet>")),
        "{body}"
    );
    assert_eq!(
        s.t.flow_logs[0].destination,
        "cloud-watch-logs/aws/flows/a-flows.log"
    );
    let body = s.ok(&format!(
        "Action=CreateFlowLogs&{V}&ResourceType=Subnet&ResourceId.1={}&TrafficType=ALL&LogDestinationType=s3&LogDestination=arn%3Aaws%3As3%3A%3A%3Abucket%2Fvpc&LogFormat=%24%7Bversion%7D+%24%7Bsrcaddr%7D",
        subnet("b-1")
    ));
    let s3 = first(&body, "item").to_owned();
    let eni = ids::id(Kind::NetworkInterface, "web/eth0");
    s.ok(&format!(
        "Action=CreateFlowLogs&{V}&ResourceType=NetworkInterface&ResourceId.1={eni}&TrafficType=ACCEPT&LogGroupName=eni-logs"
    ));
    round_trips(&s.t);
    let all = s.ok(&format!("Action=DescribeFlowLogs&{V}"));
    assert_eq!(count(&all, "<flowLogId>"), 3, "{all}");
    let one = s.ok(&format!("Action=DescribeFlowLogs&{V}&FlowLogId.1={fl}"));
    assert!(one.contains("<deliverLogsPermissionArn>arn:aws:iam::123456789012:role/flows</deliverLogsPermissionArn><deliverLogsStatus>SUCCESS</deliverLogsStatus>"), "{one}");
    assert!(one.contains(&format!("<flowLogStatus>ACTIVE</flowLogStatus><logGroupName>/aws/flows</logGroupName><resourceId>{}</resourceId><trafficType>REJECT</trafficType><logDestinationType>cloud-watch-logs</logDestinationType><logDestination>arn:aws:logs:us-east-1:123456789012:log-group:/aws/flows</logDestination>", vpc("a"))), "{one}");
    assert!(
        one.contains("<maxAggregationInterval>60</maxAggregationInterval>"),
        "{one}"
    );
    let by_resource = s.ok(&format!(
        "Action=DescribeFlowLogs&{V}&Filter.1.Name=resource-id&Filter.1.Value.1={}",
        subnet("b-1")
    ));
    assert!(by_resource.contains("<logDestination>arn:aws:s3:::bucket/vpc</logDestination><logFormat>${version} ${srcaddr}</logFormat>"), "{by_resource}");
    let by_tag = s.ok(&format!(
        "Action=DescribeFlowLogs&{V}&Filter.1.Name=tag:Name&Filter.1.Value.1=a-flows"
    ));
    assert_eq!(count(&by_tag, "<flowLogId>"), 1, "{by_tag}");
    // Another account sees none of them.
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "us-east-1",
        &format!("Action=DescribeFlowLogs&{V}"),
    );
    assert_eq!(count(&r.body, "<flowLogId>"), 0, "{}", r.body);
    s.err(
        &format!("Action=CreateFlowLogs&{V}&ResourceType=VPC&ResourceId.1={}&LogDestinationType=kinesis-data-firehose&LogDestination=x", vpc("a")),
        400,
        "InvalidParameterValue",
    );
    s.ok(&format!(
        "Action=DeleteFlowLogs&{V}&FlowLogId.1={fl}&FlowLogId.2={s3}"
    ));
    let left = s.ok(&format!("Action=DescribeFlowLogs&{V}"));
    assert_eq!(count(&left, "<flowLogId>"), 1, "{left}");
    s.err(
        &format!("Action=DescribeFlowLogs&{V}&FlowLogId.1={fl}"),
        400,
        "InvalidFlowLogId.NotFound",
    );
    round_trips(&s.t);
}

/// A `call_as` of the other account (444455556666) in us-east-1.
fn other(s: &mut Session, body: &str) -> Response {
    s.call_as(OTHER_KEY, "ec2", "us-east-1", body)
}

#[test]
fn deleted_attachments_do_not_keep_subnets_or_vpcs() {
    let mut s = three_vpcs();
    s.ok(&format!(
        "Action=CreateSubnet&{V}&VpcId={}&CidrBlock=10.2.2.0%2F24&AvailabilityZone=us-east-1b&TagSpecification.1.ResourceType=subnet&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=b-2",
        vpc("b")
    ));
    s.ok(&format!(
        "Action=CreateTransitGateway&{V}&Options.DefaultRouteTableAssociation=disable&Options.DefaultRouteTablePropagation=disable&TagSpecification.1.ResourceType=transit-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=hub"
    ));
    let tgw = ids::id(Kind::TransitGateway, "hub");
    s.ok(&format!(
        "Action=CreateTransitGatewayRouteTable&{V}&TransitGatewayId={tgw}&TagSpecifications.1.ResourceType=transit-gateway-route-table&TagSpecifications.1.Tag.1.Key=Name&TagSpecifications.1.Tag.1.Value=spokes"
    ));
    let rtb = ids::id(Kind::TgwRouteTable, "spokes");
    s.ok(&format!(
        "Action=CreateTransitGatewayVpcAttachment&{V}&TransitGatewayId={tgw}&VpcId={}&SubnetIds.1={}&SubnetIds.2={}&TagSpecifications.1.ResourceType=transit-gateway-attachment&TagSpecifications.1.Tag.1.Key=Name&TagSpecifications.1.Tag.1.Value=att-b",
        vpc("b"),
        subnet("b-1"),
        subnet("b-2")
    ));
    let att = ids::id(Kind::TgwAttachment, "att-b");
    s.ok(&format!(
        "Action=CreateTransitGatewayRoute&{V}&TransitGatewayRouteTableId={rtb}&DestinationCidrBlock=10.99.0.0%2F16&TransitGatewayAttachmentId={att}"
    ));
    // A live attachment keeps its subnets and its VPC.
    let refused = s.err(
        &format!("Action=DeleteSubnet&{V}&SubnetId={}", subnet("b-1")),
        400,
        "DependencyViolation",
    );
    assert!(refused.contains(&att), "{refused}");
    s.ok(&format!(
        "Action=DeleteTransitGatewayVpcAttachment&{V}&TransitGatewayAttachmentId={att}"
    ));

    // Deleted: it no longer keeps the subnet, and stays listed as deleted without it.
    let body = s.ok(&format!(
        "Action=DeleteSubnet&{V}&SubnetId={}",
        subnet("b-1")
    ));
    assert!(body.contains("<return>true</return>"), "{body}");
    let listed = s.ok(&format!(
        "Action=DescribeTransitGatewayVpcAttachments&{V}&TransitGatewayAttachmentIds.1={att}"
    ));
    assert!(
        listed.contains(&format!(
            "<state>deleted</state><subnetIds><item>{}</item></subnetIds>",
            subnet("b-2")
        )),
        "{listed}"
    );
    round_trips(&s.t);

    // Its last subnet goes: so does the attachment, and the static route to it.
    s.ok(&format!(
        "Action=DeleteSubnet&{V}&SubnetId={}",
        subnet("b-2")
    ));
    s.err(
        &format!(
            "Action=DescribeTransitGatewayVpcAttachments&{V}&TransitGatewayAttachmentIds.1={att}"
        ),
        400,
        "InvalidTransitGatewayAttachmentID.NotFound",
    );
    assert!(s.t.tgw_attachments.is_empty());
    let routes = s.ok(&format!(
        "Action=SearchTransitGatewayRoutes&{V}&TransitGatewayRouteTableId={rtb}&Filter.1.Name=type&Filter.1.Value.1=static"
    ));
    assert_eq!(count(&routes, "<destinationCidrBlock>"), 0, "{routes}");
    round_trips(&s.t);
    let body = s.ok(&format!("Action=DeleteVpc&{V}&VpcId={}", vpc("b")));
    assert!(body.contains("<return>true</return>"), "{body}");
    assert!(s.t.vpcs.iter().all(|v| v.name != "b"));
    round_trips(&s.t);
}

#[test]
fn deleted_peering_connections_do_not_keep_vpcs() {
    let mut s = three_vpcs();
    s.ok(&format!(
        "Action=DeleteSubnet&{V}&SubnetId={}",
        subnet("b-1")
    ));
    s.ok(&format!(
        "Action=CreateVpcPeeringConnection&{V}&VpcId={}&PeerVpcId={}&TagSpecification.1.ResourceType=vpc-peering-connection&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a-b",
        vpc("a"),
        vpc("b")
    ));
    let pcx = ids::id(Kind::PeeringConnection, "a-b");
    s.ok(&format!(
        "Action=AcceptVpcPeeringConnection&{V}&VpcPeeringConnectionId={pcx}"
    ));
    let main_a = ids::id(Kind::RouteTable, "a-main");
    let main_b = ids::id(Kind::RouteTable, "b-main");
    for (table, cidr) in [(&main_a, "10.2.0.0%2F16"), (&main_b, "10.1.0.0%2F16")] {
        s.ok(&format!(
            "Action=CreateRoute&{V}&RouteTableId={table}&DestinationCidrBlock={cidr}&VpcPeeringConnectionId={pcx}"
        ));
    }
    // A live connection keeps its VPCs.
    let refused = s.err(
        &format!("Action=DeleteVpc&{V}&VpcId={}", vpc("b")),
        400,
        "DependencyViolation",
    );
    assert!(refused.contains(&pcx), "{refused}");
    s.ok(&format!(
        "Action=DeleteVpcPeeringConnection&{V}&VpcPeeringConnectionId={pcx}"
    ));
    // Deleted, it still keeps b while a's route names it (the route is a blackhole
    // and the connection must stay listed for it).
    let refused = s.err(
        &format!("Action=DeleteVpc&{V}&VpcId={}", vpc("b")),
        400,
        "DependencyViolation",
    );
    assert!(
        refused.contains(&format!(
            "VPC peering connection {pcx} (deleted), the target of routes of route table {main_a}"
        )),
        "{refused}"
    );
    s.ok(&format!(
        "Action=DeleteRoute&{V}&RouteTableId={main_a}&DestinationCidrBlock=10.2.0.0%2F16"
    ));
    // b's own main table still names it: that table goes with b, and so does the
    // connection.
    let body = s.ok(&format!("Action=DeleteVpc&{V}&VpcId={}", vpc("b")));
    assert!(body.contains("<return>true</return>"), "{body}");
    assert!(s.t.vpc_peering_connections.is_empty());
    s.err(
        &format!("Action=DescribeVpcPeeringConnections&{V}&VpcPeeringConnectionId.1={pcx}"),
        400,
        "InvalidVpcPeeringConnectionID.NotFound",
    );
    let tags = s.ok(&format!(
        "Action=DescribeTags&{V}&Filter.1.Name=resource-id&Filter.1.Value.1={pcx}"
    ));
    assert!(!tags.contains("<item>"), "{tags}");
    round_trips(&s.t);
}

#[test]
fn tags_of_fabric_resources_are_their_owners_only() {
    let mut s = three_vpcs();
    s.ok(&format!(
        "Action=CreateVpcPeeringConnection&{V}&VpcId={}&PeerVpcId={}&TagSpecification.1.ResourceType=vpc-peering-connection&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a-b",
        vpc("a"),
        vpc("b")
    ));
    let pcx = ids::id(Kind::PeeringConnection, "a-b");
    s.ok(&format!(
        "Action=CreateTransitGateway&{V}&Options.DefaultRouteTableAssociation=disable&Options.DefaultRouteTablePropagation=disable&TagSpecification.1.ResourceType=transit-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=hub"
    ));
    let tgw = ids::id(Kind::TransitGateway, "hub");
    s.ok(&format!(
        "Action=CreateTransitGatewayRouteTable&{V}&TransitGatewayId={tgw}&TagSpecifications.1.ResourceType=transit-gateway-route-table&TagSpecifications.1.Tag.1.Key=Name&TagSpecifications.1.Tag.1.Value=spokes"
    ));
    let rtb = ids::id(Kind::TgwRouteTable, "spokes");
    s.ok(&format!(
        "Action=CreateTransitGatewayVpcAttachment&{V}&TransitGatewayId={tgw}&VpcId={}&SubnetIds.1={}&TagSpecifications.1.ResourceType=transit-gateway-attachment&TagSpecifications.1.Tag.1.Key=Name&TagSpecifications.1.Tag.1.Value=att-a",
        vpc("a"),
        subnet("a-1")
    ));
    let att = ids::id(Kind::TgwAttachment, "att-a");
    s.ok(&format!(
        "Action=CreateFlowLogs&{V}&ResourceType=VPC&ResourceId.1={}&TrafficType=ALL&LogDestinationType=s3&LogDestination=arn%3Aaws%3As3%3A%3A%3Abucket&TagSpecification.1.ResourceType=vpc-flow-log&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a-flows",
        vpc("a")
    ));
    let fl = ids::id(Kind::FlowLog, "a-flows");
    // An Elastic IP associated with an instance of a.
    let igw = first(
        &s.ok(&format!("Action=CreateInternetGateway&{V}")),
        "internetGatewayId",
    )
    .to_owned();
    s.ok(&format!(
        "Action=AttachInternetGateway&{V}&InternetGatewayId={igw}&VpcId={}",
        vpc("a")
    ));
    let alloc = first(
        &s.ok(&format!(
            "Action=AllocateAddress&{V}&Domain=vpc&TagSpecification.1.ResourceType=elastic-ip&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web-ip"
        )),
        "allocationId",
    )
    .to_owned();
    s.ok(&format!(
        "Action=AssociateAddress&{V}&AllocationId={alloc}&InstanceId={}",
        ids::id(Kind::Instance, "web")
    ));

    for id in [&pcx, &rtb, &att, &fl, &alloc] {
        // The owner sees each one's tags.
        let mine = s.ok(&format!(
            "Action=DescribeTags&{V}&Filter.1.Name=resource-id&Filter.1.Value.1={id}"
        ));
        assert_eq!(count(&mine, "<key>Name</key>"), 1, "{mine}");
        // Another account sees none, and cannot tag them.
        let theirs = other(
            &mut s,
            &format!("Action=DescribeTags&{V}&Filter.1.Name=resource-id&Filter.1.Value.1={id}"),
        );
        assert_eq!(theirs.status, 200, "{}", theirs.body);
        assert!(
            theirs.body.contains("<tagSet></tagSet>"),
            "{id}: {}",
            theirs.body
        );
        let r = other(
            &mut s,
            &format!("Action=CreateTags&{V}&ResourceId.1={id}&Tag.1.Key=k&Tag.1.Value=v"),
        );
        assert_eq!(r.status, 400, "{id}: {}", r.body);
        assert!(r.body.contains(".NotFound</Code>"), "{id}: {}", r.body);
    }
    let r = other(
        &mut s,
        &format!("Action=CreateTags&{V}&ResourceId.1={pcx}&Tag.1.Key=k&Tag.1.Value=v"),
    );
    assert!(
        r.body.contains(&format!("<Code>InvalidVpcPeeringConnectionID.NotFound</Code><Message>The vpcPeeringConnection ID &apos;{pcx}&apos; does not exist</Message>")),
        "{}",
        r.body
    );
    // The accepter's owner sees a connection to its VPC (and may tag it).
    s.ok(&format!(
        "Action=DeleteVpcPeeringConnection&{V}&VpcPeeringConnectionId={pcx}"
    ));
    s.ok(&format!(
        "Action=CreateVpcPeeringConnection&{V}&VpcId={}&PeerVpcId={}&PeerOwnerId=444455556666&TagSpecification.1.ResourceType=vpc-peering-connection&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a-c",
        vpc("a"),
        vpc("c")
    ));
    let shared = ids::id(Kind::PeeringConnection, "a-c");
    let r = other(
        &mut s,
        &format!("Action=CreateTags&{V}&ResourceId.1={shared}&Tag.1.Key=side&Tag.1.Value=c"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let theirs = other(
        &mut s,
        &format!(
            "Action=DescribeTags&{V}&Filter.1.Name=resource-type&Filter.1.Value.1=vpc-peering-connection"
        ),
    );
    assert!(
        theirs.body.contains(&format!("<tagSet><item><resourceId>{shared}</resourceId><resourceType>vpc-peering-connection</resourceType><key>Name</key><value>a-c</value></item><item><resourceId>{shared}</resourceId><resourceType>vpc-peering-connection</resourceType><key>side</key><value>c</value></item></tagSet>")),
        "{}",
        theirs.body
    );
}

#[test]
fn describe_tags_shows_what_each_describe_shows() {
    let mut s = three_vpcs();
    let sg = ids::id(Kind::SecurityGroup, "a/default");
    let acl = ids::id(Kind::NetworkAcl, "a/default");
    assert!(
        s.t.network_acls
            .iter()
            .any(|n| n.default && n.name == "default")
    );
    // No made-up Name: neither DescribeSecurityGroups nor DescribeNetworkAcls shows one.
    for (id, describe) in [
        (
            &sg,
            format!("Action=DescribeSecurityGroups&{V}&GroupId.1={sg}"),
        ),
        (
            &acl,
            format!("Action=DescribeNetworkAcls&{V}&NetworkAclId.1={acl}"),
        ),
    ] {
        let described = s.ok(&describe);
        assert!(!described.contains("<tagSet>"), "{described}");
        let tags = s.ok(&format!(
            "Action=DescribeTags&{V}&Filter.1.Name=resource-id&Filter.1.Value.1={id}"
        ));
        assert!(tags.contains("<tagSet></tagSet>"), "{tags}");
        // Tags as set, in both.
        s.ok(&format!(
            "Action=CreateTags&{V}&ResourceId.1={id}&Tag.1.Key=Name&Tag.1.Value=web-tier"
        ));
        let described = s.ok(&describe);
        assert!(
            described
                .contains("<tagSet><item><key>Name</key><value>web-tier</value></item></tagSet>"),
            "{described}"
        );
        let tags = s.ok(&format!(
            "Action=DescribeTags&{V}&Filter.1.Name=resource-id&Filter.1.Value.1={id}"
        ));
        assert!(
            tags.contains("<key>Name</key><value>web-tier</value></item></tagSet>"),
            "{tags}"
        );
        assert_eq!(count(&tags, "<item>"), 1, "{tags}");
    }
    // A named VPC shows its name as Name in both.
    let vpcs = s.ok(&format!("Action=DescribeVpcs&{V}&VpcId.1={}", vpc("a")));
    assert!(
        vpcs.contains("<tagSet><item><key>Name</key><value>a</value></item></tagSet>"),
        "{vpcs}"
    );
    let tags = s.ok(&format!(
        "Action=DescribeTags&{V}&Filter.1.Name=resource-id&Filter.1.Value.1={}",
        vpc("a")
    ));
    assert!(
        tags.contains(&format!(
            "<tagSet><item><resourceId>{}</resourceId><resourceType>vpc</resourceType><key>Name</key><value>a</value></item></tagSet>",
            vpc("a")
        )),
        "{tags}"
    );
}
