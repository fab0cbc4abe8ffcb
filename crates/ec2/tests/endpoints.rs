//! Gateway VPC endpoints and managed prefix lists end to end, on the demo (which has
//! service s3 and endpoint s3-endpoint on private-a-rt): signed requests with literal
//! bodies, the XML answered, AWS's error codes, and the topology returned (which reads
//! back from its own file unchanged).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

const S3: &str = "com.amazonaws.local-1.s3";
const DDB: &str = "com.amazonaws.local-1.dynamodb";

/// The demo with a dynamodb service (192.0.2.128/26) and an sqs one (no gateway
/// endpoints), both in the demo's region; signing for it.
fn session() -> Session {
    let text = format!(
        "{}\n[[aws_service]]\nname = \"dynamodb\"\nregion = \"local-1\"\ncidrs = [\"192.0.2.128/26\"]\n\n[[aws_service]]\nname = \"sqs\"\nregion = \"local-1\"\ncidrs = [\"203.0.113.128/26\"]\n",
        vpc_config::DEMO_TOML
    );
    Session::new(vpc_config::parse(&text, "t.toml").unwrap()).with_region(DEMO_REGION)
}

fn rtb(name: &str) -> String {
    ids::id(Kind::RouteTable, name)
}

#[test]
fn the_demo_endpoint_is_described_and_routed_by_its_prefix_list() {
    let mut s = session();
    let vpce = ids::id(Kind::VpcEndpoint, "s3-endpoint");
    let pl = ids::id(Kind::PrefixList, S3);
    assert_eq!(pl, vpc_config::prefix_list_id(S3), "config and API agree");
    let body = s.ok(&format!("Action=DescribeVpcEndpoints&{V}"));
    assert_eq!(count(&body, "<vpcEndpointId>"), 1);
    assert_eq!(first(&body, "vpcEndpointId"), vpce);
    assert_eq!(first(&body, "vpcEndpointType"), "Gateway");
    assert_eq!(first(&body, "serviceName"), S3);
    assert_eq!(first(&body, "state"), "available");
    assert_eq!(
        first(&body, "routeTableIdSet"),
        format!("<item>{}</item>", rtb("private-a-rt"))
    );
    // Filters.
    for (filter, hits) in [
        ("service-name", S3),
        ("vpc-endpoint-type", "Gateway"),
        ("vpc-endpoint-state", "available"),
        ("vpc-endpoint-id", vpce.as_str()),
    ] {
        let body = s.ok(&format!(
            "Action=DescribeVpcEndpoints&{V}&Filter.1.Name={filter}&Filter.1.Value.1={hits}"
        ));
        assert_eq!(count(&body, "<vpcEndpointId>"), 1, "{filter}");
    }
    let body = s.ok(&format!(
        "Action=DescribeVpcEndpoints&{V}&Filter.1.Name=service-name&Filter.1.Value.1={DDB}"
    ));
    assert_eq!(count(&body, "<vpcEndpointId>"), 0);

    // The route: destinationPrefixListId, gatewayId vpce-, origin CreateRoute.
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={}",
        rtb("private-a-rt")
    ));
    let route = format!(
        "<item><destinationPrefixListId>{pl}</destinationPrefixListId><gatewayId>{vpce}</gatewayId><state>active</state><origin>CreateRoute</origin></item>"
    );
    assert!(body.contains(&route), "{body}");
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={}",
        rtb("private-b-rt")
    ));
    assert_eq!(count(&body, "destinationPrefixListId"), 0);
    // Filters find the table by its endpoint route.
    for (filter, value) in [
        ("route.gateway-id", vpce.as_str()),
        ("route.destination-prefix-list-id", pl.as_str()),
    ] {
        let body = s.ok(&format!(
            "Action=DescribeRouteTables&{V}&Filter.1.Name={filter}&Filter.1.Value.1={value}"
        ));
        assert_eq!(
            count(&body, "<routeTableId>"),
            count(&body, &rtb("private-a-rt"))
        );
        assert!(body.contains(&rtb("private-a-rt")), "{filter}: {body}");
        assert!(!body.contains(&rtb("private-b-rt")), "{filter}: {body}");
    }
}

#[test]
fn prefix_lists_and_services_are_described() {
    let mut s = session();
    let pl = ids::id(Kind::PrefixList, S3);
    let body = s.ok(&format!(
        "Action=DescribePrefixLists&{V}&PrefixListId.1={pl}"
    ));
    assert!(
        body.contains(&format!(
            "<item><prefixListId>{pl}</prefixListId><prefixListName>{S3}</prefixListName><cidrSet><item>192.0.2.64/26</item></cidrSet></item>"
        )),
        "{body}"
    );
    let body = s.ok(&format!("Action=DescribeManagedPrefixLists&{V}"));
    assert_eq!(count(&body, "<prefixListId>"), 3);
    assert!(body.contains("<ownerId>AWS</ownerId>"));
    assert!(body.contains(&format!(
        "<prefixListArn>arn:aws:ec2:local-1:aws:prefix-list/{pl}</prefixListArn>"
    )));
    let body = s.ok(&format!(
        "Action=DescribeManagedPrefixLists&{V}&Filter.1.Name=prefix-list-name&Filter.1.Value.1=*dynamodb"
    ));
    assert_eq!(count(&body, "<prefixListId>"), 1);
    let body = s.ok(&format!(
        "Action=GetManagedPrefixListEntries&{V}&PrefixListId={pl}"
    ));
    assert_eq!(
        first(&body, "entrySet"),
        "<item><cidr>192.0.2.64/26</cidr></item>"
    );
    s.err(
        &format!("Action=GetManagedPrefixListEntries&{V}&PrefixListId=pl-0123456789abcdef0"),
        400,
        "InvalidPrefixListID.NotFound",
    );
    // Another region sees none of them.
    let r = s.call_as(
        KEY,
        "ec2",
        "eu-west-1",
        &format!("Action=DescribePrefixLists&{V}"),
    );
    assert_eq!(count(&r.body, "<prefixListId>"), 0, "{}", r.body);

    let body = s.ok(&format!("Action=DescribeVpcEndpointServices&{V}"));
    assert_eq!(
        first(&body, "serviceNameSet"),
        format!("<item>{S3}</item><item>{DDB}</item><item>com.amazonaws.local-1.sqs</item>")
    );
    let body = s.ok(&format!(
        "Action=DescribeVpcEndpointServices&{V}&Filter.1.Name=service-type&Filter.1.Value.1=Gateway"
    ));
    assert_eq!(count(&body, "<serviceName>"), 2);
    s.err(
        &format!("Action=DescribeVpcEndpointServices&{V}&ServiceName.1=com.amazonaws.local-1.ec2"),
        400,
        "InvalidServiceName",
    );
}

#[test]
fn create_modify_and_delete_an_endpoint() {
    let mut s = session();
    let vpc = ids::id(Kind::Vpc, "demo");
    let body = s.ok(&format!(
        "Action=CreateVpcEndpoint&{V}&VpcId={vpc}&ServiceName={DDB}&VpcEndpointType=Gateway&RouteTableId.1={}&TagSpecification.1.ResourceType=vpc-endpoint&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=ddb",
        rtb("private-b-rt")
    ));
    let vpce = ids::id(Kind::VpcEndpoint, "ddb");
    assert_eq!(first(&body, "vpcEndpointId"), vpce);
    let e = s.t.vpc_endpoints[1].clone();
    assert_eq!(e.name, "ddb");
    assert_eq!(s.t.route_table(e.route_tables[0]).name, "private-b-rt");
    s.ok(&format!(
        "Action=CreateTags&{V}&ResourceId.1={vpce}&Tag.1.Key=team&Tag.1.Value=data"
    ));
    let body = s.ok(&format!(
        "Action=DescribeVpcEndpoints&{V}&Filter.1.Name=tag:team&Filter.1.Value.1=data"
    ));
    assert_eq!(count(&body, "<vpcEndpointId>"), 1, "{body}");
    assert!(body.contains("<key>Name</key><value>ddb</value>"), "{body}");

    // A second gateway endpoint to dynamodb in private-b-rt: refused.
    s.err(
        &format!(
            "Action=CreateVpcEndpoint&{V}&VpcId={vpc}&ServiceName={DDB}&RouteTableId.1={}",
            rtb("private-b-rt")
        ),
        400,
        "RouteAlreadyExists",
    );
    // Only s3 and dynamodb; only gateways; only services that exist.
    s.err(
        &format!("Action=CreateVpcEndpoint&{V}&VpcId={vpc}&ServiceName=com.amazonaws.local-1.sqs"),
        400,
        "InvalidParameter",
    );
    s.err(
        &format!(
            "Action=CreateVpcEndpoint&{V}&VpcId={vpc}&ServiceName={S3}&VpcEndpointType=Interface"
        ),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!("Action=CreateVpcEndpoint&{V}&VpcId={vpc}&ServiceName=com.amazonaws.eu-west-1.s3"),
        400,
        "InvalidServiceName",
    );

    // Modify: add public-rt, remove private-b-rt.
    s.ok(&format!(
        "Action=ModifyVpcEndpoint&{V}&VpcEndpointId={vpce}&AddRouteTableId.1={}&RemoveRouteTableId.1={}",
        rtb("public-rt"),
        rtb("private-b-rt")
    ));
    let names: Vec<&str> = s.t.vpc_endpoints[1]
        .route_tables
        .iter()
        .map(|&r| s.t.route_table(r).name.as_str())
        .collect();
    assert_eq!(names, ["public-rt"]);
    // Adding s3's endpoint to private-a-rt again changes nothing; to public-rt, once.
    let s3e = ids::id(Kind::VpcEndpoint, "s3-endpoint");
    s.ok(&format!(
        "Action=ModifyVpcEndpoint&{V}&VpcEndpointId={s3e}&AddRouteTableId.1={}&AddRouteTableId.2={}",
        rtb("private-a-rt"),
        rtb("public-rt")
    ));
    assert_eq!(s.t.vpc_endpoints[0].route_tables.len(), 2);

    // Delete: one found, one not.
    let body = s.ok(&format!(
        "Action=DeleteVpcEndpoints&{V}&VpcEndpointId.1={vpce}&VpcEndpointId.2=vpce-0123456789abcdef0"
    ));
    assert_eq!(
        first(&body, "unsuccessful"),
        "<item><error><code>InvalidVpcEndpoint.NotFound</code><message>The VpcEndpoint Id &apos;vpce-0123456789abcdef0&apos; does not exist</message></error><resourceId>vpce-0123456789abcdef0</resourceId></item>"
    );
    assert_eq!(s.t.vpc_endpoints.len(), 1);
    assert!(!s.t.tags.contains_key(&vpce), "its tags went with it");
    let body = s.ok(&format!("Action=DescribeVpcEndpoints&{V}"));
    assert_eq!(count(&body, "<vpcEndpointId>"), 1);
}

#[test]
fn security_group_rules_name_prefix_lists() {
    let mut s = session();
    let sg = ids::id(Kind::SecurityGroup, "demo/app-sg");
    let pl = ids::id(Kind::PrefixList, S3);
    let body = s.ok(&format!(
        "Action=AuthorizeSecurityGroupEgress&{V}&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.PrefixListIds.1.PrefixListId={pl}&IpPermissions.1.PrefixListIds.1.Description=to%20s3"
    ));
    assert!(
        body.contains(&format!("<prefixListId>{pl}</prefixListId>")),
        "{body}"
    );
    let g =
        s.t.security_groups
            .iter()
            .find(|g| g.name == "app-sg")
            .unwrap();
    assert!(
        g.egress
            .iter()
            .any(|r| r.peer == vpc_config::SgPeer::PrefixList(vpc_config::AwsServiceId(0)))
    );
    let body = s.ok(&format!("Action=DescribeSecurityGroups&{V}&GroupId.1={sg}"));
    assert!(
        body.contains(&format!(
            "<prefixListIds><item><description>to s3</description><prefixListId>{pl}</prefixListId></item></prefixListIds>"
        )),
        "{body}"
    );
    let body = s.ok(&format!(
        "Action=DescribeSecurityGroups&{V}&Filter.1.Name=egress.ip-permission.prefix-list-id&Filter.1.Value.1={pl}"
    ));
    assert_eq!(count(&body, "<groupName>"), 1, "{body}");
    let body = s.ok(&format!(
        "Action=DescribeSecurityGroupRules&{V}&Filter.1.Name=group-id&Filter.1.Value.1={sg}"
    ));
    assert_eq!(
        count(&body, &format!("<prefixListId>{pl}</prefixListId>")),
        1,
        "{body}"
    );
    // By the list's name too.
    s.ok(&format!(
        "Action=AuthorizeSecurityGroupIngress&{V}&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.PrefixListIds.1.PrefixListId={S3}"
    ));
    s.err(
        &format!(
            "Action=AuthorizeSecurityGroupIngress&{V}&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=1&IpPermissions.1.PrefixListIds.1.PrefixListId=pl-0123456789abcdef0"
        ),
        400,
        "InvalidPrefixListID.NotFound",
    );
    s.ok(&format!(
        "Action=RevokeSecurityGroupEgress&{V}&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.PrefixListIds.1.PrefixListId={pl}"
    ));
    let g =
        s.t.security_groups
            .iter()
            .find(|g| g.name == "app-sg")
            .unwrap();
    assert!(
        g.egress
            .iter()
            .all(|r| !matches!(r.peer, vpc_config::SgPeer::PrefixList(_)))
    );
}

#[test]
fn a_vpc_with_an_endpoint_is_not_deleted_a_route_table_is() {
    let mut s = session();
    let vpc = ids::id(Kind::Vpc, "demo");
    let body = s.err(
        &format!("Action=DeleteVpc&{V}&VpcId={vpc}"),
        400,
        "DependencyViolation",
    );
    assert!(
        body.contains(&ids::id(Kind::VpcEndpoint, "s3-endpoint")),
        "{body}"
    );
    // A table of the endpoint's, no longer associated with a subnet, is deleted and
    // leaves the endpoint.
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={}",
        rtb("private-a-rt")
    ));
    let assoc = first(&body, "routeTableAssociationId").to_owned();
    s.ok(&format!(
        "Action=DisassociateRouteTable&{V}&AssociationId={assoc}"
    ));
    s.ok(&format!(
        "Action=DeleteRouteTable&{V}&RouteTableId={}",
        rtb("private-a-rt")
    ));
    assert!(s.t.vpc_endpoints[0].route_tables.is_empty());
}

#[test]
fn a_rule_is_modified_to_name_a_prefix_list() {
    let mut s = session();
    let sg = ids::id(Kind::SecurityGroup, "demo/db-sg");
    let pl = ids::id(Kind::PrefixList, DDB);
    let body = s.ok(&format!(
        "Action=DescribeSecurityGroupRules&{V}&Filter.1.Name=group-id&Filter.1.Value.1={sg}"
    ));
    // db-sg: its inbound rule first, then the default outbound one.
    let rule = first(&body, "securityGroupRuleId").to_owned();
    // A prefix list and a block at once: refused.
    s.err(
        &format!(
            "Action=ModifySecurityGroupRules&{V}&GroupId={sg}&SecurityGroupRule.1.SecurityGroupRuleId={rule}&SecurityGroupRule.1.SecurityGroupRule.IpProtocol=tcp&SecurityGroupRule.1.SecurityGroupRule.PrefixListId={pl}&SecurityGroupRule.1.SecurityGroupRule.CidrIpv4=10.0.0.0%2F8"
        ),
        400,
        "InvalidParameterValue",
    );
    s.ok(&format!(
        "Action=ModifySecurityGroupRules&{V}&GroupId={sg}&SecurityGroupRule.1.SecurityGroupRuleId={rule}&SecurityGroupRule.1.SecurityGroupRule.IpProtocol=tcp&SecurityGroupRule.1.SecurityGroupRule.FromPort=5432&SecurityGroupRule.1.SecurityGroupRule.ToPort=5432&SecurityGroupRule.1.SecurityGroupRule.PrefixListId={pl}"
    ));
    let g =
        s.t.security_groups
            .iter()
            .find(|g| g.name == "db-sg")
            .unwrap();
    assert_eq!(
        g.ingress[0].peer,
        vpc_config::SgPeer::PrefixList(vpc_config::AwsServiceId(1))
    );
}
