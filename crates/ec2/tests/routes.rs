//! Route tables, Elastic IPs and NAT gateways end to end: signed requests with literal
//! bodies against a topology, the exact XML answered, AWS's error codes, and the
//! topology returned (which reads back from its own file unchanged).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

/// Tag specification parameters naming a new resource of `ty` `name`.
fn named(ty: &str, name: &str) -> String {
    format!(
        "TagSpecification.1.ResourceType={ty}&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value={name}"
    )
}

/// A VPC `net` 10.0.0.0/16 with subnets `pub` (10.0.1.0/24) and `priv`
/// (10.0.2.0/24), and internet gateway `gw` attached: (vpc, pub, priv, igw) IDs.
fn network(s: &mut Session) -> (String, String, String, String) {
    let body = s.ok(&format!(
        "Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16&{}",
        named("vpc", "net")
    ));
    let vpc = first(&body, "vpcId").to_owned();
    s.ok(&format!(
        "Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.0.1.0%2F24&{}",
        named("subnet", "pub")
    ));
    s.ok(&format!(
        "Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.0.2.0%2F24&{}",
        named("subnet", "priv")
    ));
    s.ok(&format!(
        "Action=CreateInternetGateway&{V}&{}",
        named("internet-gateway", "gw")
    ));
    let igw = ids::id(Kind::InternetGateway, "gw");
    s.ok(&format!(
        "Action=AttachInternetGateway&{V}&InternetGatewayId={igw}&VpcId={vpc}"
    ));
    (
        vpc,
        ids::id(Kind::Subnet, "pub"),
        ids::id(Kind::Subnet, "priv"),
        igw,
    )
}

fn assoc(text: &str) -> String {
    ids::id(Kind::RouteTableAssociation, text)
}

#[test]
fn every_vpc_has_its_main_route_table() {
    let mut s = Session::empty();
    let (vpc, ..) = network(&mut s);
    let main = ids::id(Kind::RouteTable, "net-main");
    // What Terraform asks after CreateVpc.
    let body = s.ok(&format!("Action=DescribeRouteTables&{V}&Filter.1.Name=association.main&Filter.1.Value.1=true&Filter.2.Name=vpc-id&Filter.2.Value.1={vpc}"));
    assert!(body.contains(&format!(
        "<routeTableSet><item><routeTableId>{main}</routeTableId><vpcId>{vpc}</vpcId><ownerId>123456789012</ownerId><routeSet><item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><state>active</state><origin>CreateRouteTable</origin></item></routeSet><associationSet><item><main>true</main><routeTableAssociationId>{}</routeTableAssociationId><routeTableId>{main}</routeTableId><associationState><state>associated</state></associationState></item></associationSet><propagatingVgwSet></propagatingVgwSet><tagSet><item><key>Name</key><value>net-main</value></item></tagSet></item></routeTableSet>",
        assoc("net-main")
    )), "{body}");
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&Filter.1.Name=association.main&Filter.1.Value.1=false"
    ));
    assert!(body.contains("<routeTableSet></routeTableSet>"), "{body}");
    // The main table cannot go, nor its main association.
    s.err(
        &format!("Action=DeleteRouteTable&{V}&RouteTableId={main}"),
        400,
        "DependencyViolation",
    );
    s.err(
        &format!(
            "Action=DisassociateRouteTable&{V}&AssociationId={}",
            assoc("net-main")
        ),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!("Action=DescribeRouteTables&{V}&RouteTableId.1=rtb-00000000000000000"),
        400,
        "InvalidRouteTableID.NotFound",
    );
    s.err(
        &format!("Action=DescribeRouteTables&{V}&RouteTableId.1=vpc-00000000000000000"),
        400,
        "InvalidRouteTableID.Malformed",
    );
    // Another account sees none of it.
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "us-east-1",
        &format!("Action=DescribeRouteTables&{V}"),
    );
    assert!(
        r.body.contains("<routeTableSet></routeTableSet>"),
        "{}",
        r.body
    );
}

#[test]
fn create_route_table_is_idempotent_by_client_token() {
    let mut s = Session::empty();
    let (vpc, ..) = network(&mut s);
    let create = format!(
        "Action=CreateRouteTable&{V}&VpcId={vpc}&ClientToken=tok-1&{}",
        named("route-table", "web-rt")
    );
    let body = s.ok(&create);
    let rtb = ids::id(Kind::RouteTable, "web-rt");
    assert!(body.contains(&format!("<routeTable><routeTableId>{rtb}</routeTableId><vpcId>{vpc}</vpcId><ownerId>123456789012</ownerId><routeSet><item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><state>active</state><origin>CreateRouteTable</origin></item></routeSet><associationSet></associationSet><propagatingVgwSet></propagatingVgwSet><tagSet><item><key>Name</key><value>web-rt</value></item></tagSet></routeTable><clientToken>tok-1</clientToken>")), "{body}");
    assert_eq!(s.t.route_tables.len(), 2);
    // The same token: the same table, nothing created.
    let before = s.t.clone();
    let again = s.ok(&create);
    assert_eq!(first(&again, "routeTable"), first(&body, "routeTable"));
    assert_eq!(s.t, before);
    // Another token: another table, named by a fresh ID (the Name is taken).
    let body = s.ok(&format!(
        "Action=CreateRouteTable&{V}&VpcId={vpc}&ClientToken=tok-2&{}",
        named("route-table", "web-rt")
    ));
    let other = first(&body, "routeTableId").to_owned();
    assert!(ids::is_id(Kind::RouteTable, &other), "{other}");
    assert_eq!(s.t.route_tables.len(), 3);
    // The token with another VPC.
    let body = s.ok(&format!("Action=CreateVpc&{V}&CidrBlock=10.1.0.0%2F16"));
    let vpc2 = first(&body, "vpcId").to_owned();
    s.err(
        &format!("Action=CreateRouteTable&{V}&VpcId={vpc2}&ClientToken=tok-1"),
        400,
        "IdempotentParameterMismatch",
    );
    // Deleted: gone, with its tags; then NotFound.
    s.ok(&format!("Action=DeleteRouteTable&{V}&RouteTableId={rtb}"));
    assert!(!s.t.tags.contains_key(&rtb));
    s.err(
        &format!("Action=DeleteRouteTable&{V}&RouteTableId={rtb}"),
        400,
        "InvalidRouteTableID.NotFound",
    );
    // The token's table is gone: the token makes a new one.
    s.ok(&create);
    assert!(ids::resolve(&s.t, Kind::RouteTable, "web-rt").is_some());
}

#[test]
fn routes_and_their_errors() {
    let mut s = Session::empty();
    let (vpc, ..) = network(&mut s);
    let body = s.ok(&format!("Action=CreateRouteTable&{V}&VpcId={vpc}"));
    let rtb = first(&body, "routeTableId").to_owned();
    let igw = ids::id(Kind::InternetGateway, "gw");
    let route = |dest: &str, target: &str| {
        format!("RouteTableId={rtb}&DestinationCidrBlock={dest}&{target}")
    };
    s.ok(&format!(
        "Action=CreateRoute&{V}&{}",
        route("0.0.0.0%2F0", &format!("GatewayId={igw}"))
    ));
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={rtb}"
    ));
    assert!(body.contains(&format!("<routeSet><item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><state>active</state><origin>CreateRouteTable</origin></item><item><destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><gatewayId>{igw}</gatewayId><state>active</state><origin>CreateRoute</origin></item></routeSet>")), "{body}");
    // boto3's filter, and the route filters.
    let body = s.ok(&format!("Action=DescribeRouteTables&{V}&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc}&Filter.2.Name=route.destination-cidr-block&Filter.2.Value.1=0.0.0.0%2F0"));
    assert_eq!(count(&body, "<routeTableId>"), 1);
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&Filter.1.Name=route.gateway-id&Filter.1.Value.1=igw-*"
    ));
    assert_eq!(first(&body, "routeTableId"), rtb);
    s.err(
        &format!(
            "Action=CreateRoute&{V}&{}",
            route("0.0.0.0%2F0", &format!("GatewayId={igw}"))
        ),
        400,
        "RouteAlreadyExists",
    );
    s.err(
        &format!(
            "Action=CreateRoute&{V}&{}",
            route("10.0.0.0%2F16", &format!("GatewayId={igw}"))
        ),
        400,
        "RouteAlreadyExists",
    );
    s.err(
        &format!("Action=DeleteRoute&{V}&{}", route("10.9.0.0%2F16", "")),
        400,
        "InvalidRoute.NotFound",
    );
    s.err(
        &format!(
            "Action=ReplaceRoute&{V}&{}",
            route("10.9.0.0%2F16", &format!("GatewayId={igw}"))
        ),
        400,
        "InvalidRoute.NotFound",
    );
    let body = s.err(
        &format!("Action=DeleteRoute&{V}&{}", route("10.0.0.0%2F16", "")),
        400,
        "InvalidParameterValue",
    );
    assert!(
        body.contains("cannot remove local route 10.0.0.0/16"),
        "{body}"
    );
    s.err(
        &format!("Action=CreateRoute&{V}&{}", route("10.8.0.0%2F16", "")),
        400,
        "MissingParameter",
    );
    s.err(
        &format!(
            "Action=CreateRoute&{V}&{}",
            route(
                "10.8.0.0%2F16",
                &format!("GatewayId={igw}&NatGatewayId=nat-00000000000000000")
            )
        ),
        400,
        "InvalidParameterCombination",
    );
    s.err(
        &format!(
            "Action=CreateRoute&{V}&{}",
            route("10.8.0.0%2F16", "NatGatewayId=nat-00000000000000000")
        ),
        400,
        "NatGatewayNotFound",
    );
    s.err(
        &format!(
            "Action=CreateRoute&{V}&{}",
            route("10.8.0.1%2F16", &format!("GatewayId={igw}"))
        ),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!(
            "Action=CreateRoute&{V}&{}",
            route(
                "10.8.0.0%2F16",
                "EgressOnlyInternetGatewayId=eigw-00000000000000000"
            )
        ),
        400,
        "InvalidParameterValue",
    );
    // A detached gateway: the route stays, blackhole (and is written so).
    s.ok(&format!(
        "Action=DetachInternetGateway&{V}&InternetGatewayId={igw}&VpcId={vpc}"
    ));
    let body = s.ok(&format!("Action=DescribeRouteTables&{V}&RouteTableId.1={rtb}&Filter.1.Name=route.state&Filter.1.Value.1=blackhole"));
    assert!(body.contains(&format!("<destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><gatewayId>{igw}</gatewayId><state>blackhole</state><origin>CreateRoute</origin>")), "{body}");
    // A route to a gateway of no VPC or another VPC is refused.
    s.err(
        &format!(
            "Action=CreateRoute&{V}&{}",
            route("10.7.0.0%2F16", &format!("GatewayId={igw}"))
        ),
        400,
        "InvalidParameterValue",
    );
    s.ok(&format!(
        "Action=AttachInternetGateway&{V}&InternetGatewayId={igw}&VpcId={vpc}"
    ));
    // ReplaceRoute, then DeleteRoute.
    // A plain name works wherever an ID does.
    s.ok(&format!(
        "Action=CreateRoute&{V}&{}",
        route("192.168.0.0%2F16", "GatewayId=gw")
    ));
    s.err(
        &format!(
            "Action=CreateRoute&{V}&{}",
            route("10.6.0.0%2F16", "GatewayId=vgw-00000000000000000")
        ),
        400,
        "InvalidVpnGatewayID.NotFound",
    );
    s.ok(&format!(
        "Action=DeleteRoute&{V}&{}",
        route("0.0.0.0%2F0", "")
    ));
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={rtb}"
    ));
    assert_eq!(count(&body, "<destinationCidrBlock>"), 2);
    assert!(
        body.contains("<destinationCidrBlock>192.168.0.0/16</destinationCidrBlock>"),
        "{body}"
    );
    s.ok(&format!(
        "Action=DeleteRoute&{V}&{}",
        route("192.168.0.0%2F16", "")
    ));
    assert_eq!(
        s.t.route_tables
            .iter()
            .map(|r| r.routes.len())
            .sum::<usize>(),
        2
    );
}

/// A table whose local route is sent through an appliance, and back.
#[test]
fn replace_route_on_the_local_route() {
    let text = "[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/16\"\n\n[[subnet]]\nname = \"a\"\nvpc = \"v\"\ncidr = \"10.0.1.0/24\"\naz = \"a\"\n\n[[instance]]\nname = \"fw\"\nsubnet = \"a\"\nprivate_ip = \"10.0.1.10\"\nsource_dest_check = false\n\n[[route_table]]\nname = \"rt\"\nvpc = \"v\"\n";
    let mut s = Session::new(vpc_config::parse(text, "t").unwrap());
    let rtb = ids::id(Kind::RouteTable, "rt");
    let fw = ids::id(Kind::Instance, "fw");
    let eni = ids::id(Kind::NetworkInterface, "fw/eth0");
    s.ok(&format!("Action=ReplaceRoute&{V}&RouteTableId={rtb}&DestinationCidrBlock=10.0.0.0%2F16&InstanceId={fw}"));
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={rtb}"
    ));
    assert!(body.contains(&format!("<item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><instanceId>{fw}</instanceId><instanceOwnerId>123456789012</instanceOwnerId><networkInterfaceId>{eni}</networkInterfaceId><state>active</state><origin>CreateRouteTable</origin></item>")), "{body}");
    s.err(&format!("Action=ReplaceRoute&{V}&RouteTableId={rtb}&DestinationCidrBlock=10.0.0.0%2F16&GatewayId=igw-00000000000000000"), 400, "InvalidInternetGatewayID.NotFound");
    s.ok(&format!("Action=ReplaceRoute&{V}&RouteTableId={rtb}&DestinationCidrBlock=10.0.0.0%2F16&LocalTarget=true"));
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={rtb}"
    ));
    assert!(
        body.contains(
            "<destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId>"
        ),
        "{body}"
    );
    // A subnet's block through the appliance (middlebox routing), by interface.
    s.ok(&format!("Action=CreateRoute&{V}&RouteTableId={rtb}&DestinationCidrBlock=10.0.1.0%2F24&NetworkInterfaceId={eni}"));
    assert_eq!(
        s.t.route_tables[0].routes[1].target,
        vpc_config::RouteTarget::Eni(vpc_config::EniId(0))
    );
}

#[test]
fn associations() {
    let mut s = Session::empty();
    let (vpc, pub_id, priv_id, igw) = network(&mut s);
    let body = s.ok(&format!(
        "Action=CreateRouteTable&{V}&VpcId={vpc}&{}",
        named("route-table", "public-rt")
    ));
    let rtb = first(&body, "routeTableId").to_owned();
    let body = s.ok(&format!(
        "Action=AssociateRouteTable&{V}&RouteTableId={rtb}&SubnetId={pub_id}"
    ));
    let a = assoc("public-rt/pub");
    assert!(body.contains("<requestId>"), "{body}");
    assert!(body.ends_with(&format!("<associationId>{a}</associationId><associationState><state>associated</state></associationState></AssociateRouteTableResponse>")), "{body}");
    assert!(s.t.subnets[0].explicit_association);
    // What Terraform polls after AssociateRouteTable.
    let body = s.ok(&format!("Action=DescribeRouteTables&{V}&Filter.1.Name=association.route-table-association-id&Filter.1.Value.1={a}"));
    assert!(body.contains(&format!("<associationSet><item><main>false</main><routeTableAssociationId>{a}</routeTableAssociationId><routeTableId>{rtb}</routeTableId><subnetId>{pub_id}</subnetId><associationState><state>associated</state></associationState></item></associationSet>")), "{body}");
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&Filter.1.Name=association.subnet-id&Filter.1.Value.1={pub_id}"
    ));
    assert_eq!(first(&body, "routeTableId"), rtb);
    s.err(
        &format!("Action=AssociateRouteTable&{V}&RouteTableId={rtb}&SubnetId={pub_id}"),
        400,
        "Resource.AlreadyAssociated",
    );
    s.err(
        &format!("Action=DeleteRouteTable&{V}&RouteTableId={rtb}"),
        400,
        "DependencyViolation",
    );
    // A subnet of another VPC.
    let body = s.ok(&format!("Action=CreateVpc&{V}&CidrBlock=10.1.0.0%2F16"));
    let vpc2 = first(&body, "vpcId").to_owned();
    let body = s.ok(&format!(
        "Action=CreateSubnet&{V}&VpcId={vpc2}&CidrBlock=10.1.1.0%2F24"
    ));
    let far = first(&body, "subnetId").to_owned();
    s.err(
        &format!("Action=AssociateRouteTable&{V}&RouteTableId={rtb}&SubnetId={far}"),
        400,
        "InvalidParameterValue",
    );
    // ReplaceRouteTableAssociation: the subnet moves to another table, a new ID.
    let body = s.ok(&format!("Action=CreateRouteTable&{V}&VpcId={vpc}"));
    let rtb2 = first(&body, "routeTableId").to_owned();
    let body = s.ok(&format!(
        "Action=ReplaceRouteTableAssociation&{V}&AssociationId={a}&RouteTableId={rtb2}"
    ));
    let a2 = assoc(&format!("{rtb2}/pub"));
    assert!(body.contains(&format!("<newAssociationId>{a2}</newAssociationId><associationState><state>associated</state></associationState>")), "{body}");
    s.err(
        &format!("Action=DisassociateRouteTable&{V}&AssociationId={a}"),
        400,
        "InvalidAssociationID.NotFound",
    );
    s.ok(&format!(
        "Action=DisassociateRouteTable&{V}&AssociationId={a2}"
    ));
    assert!(!s.t.subnets[0].explicit_association);
    assert_eq!(s.t.subnets[0].route_table, s.t.vpcs[0].main_route_table);
    // The main association moves to public-rt: priv (implicit) follows it.
    let body = s.ok(&format!(
        "Action=ReplaceRouteTableAssociation&{V}&AssociationId={}&RouteTableId={rtb}",
        assoc("net-main")
    ));
    assert!(
        body.contains(&format!(
            "<newAssociationId>{}</newAssociationId>",
            assoc("public-rt")
        )),
        "{body}"
    );
    let priv_index = ids::resolve(&s.t, Kind::Subnet, &priv_id).unwrap();
    assert_eq!(
        s.t.route_tables[s.t.subnets[priv_index].route_table.index()].name,
        "public-rt"
    );
    let body = s.ok(&format!("Action=DescribeRouteTables&{V}&Filter.1.Name=association.main&Filter.1.Value.1=true&Filter.2.Name=vpc-id&Filter.2.Value.1={vpc}"));
    assert_eq!(first(&body, "routeTableId"), rtb);
    // The old main table is an ordinary table now, and may go.
    s.ok(&format!(
        "Action=DeleteRouteTable&{V}&RouteTableId={}",
        ids::id(Kind::RouteTable, "net-main")
    ));
    // An edge association: a gateway route table.
    let body = s.ok(&format!(
        "Action=AssociateRouteTable&{V}&RouteTableId={rtb2}&GatewayId={igw}"
    ));
    let edge = assoc(&format!("{rtb2}/gateway:gw"));
    assert_eq!(first(&body, "associationId"), edge);
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&Filter.1.Name=association.gateway-id&Filter.1.Value.1={igw}"
    ));
    assert!(body.contains(&format!("<routeTableAssociationId>{edge}</routeTableAssociationId><routeTableId>{rtb2}</routeTableId><gatewayId>{igw}</gatewayId>")), "{body}");
    s.err(
        &format!("Action=AssociateRouteTable&{V}&RouteTableId={rtb}&GatewayId={igw}"),
        400,
        "Resource.AlreadyAssociated",
    );
    // A gateway route table routes only inside the VPC.
    s.err(
        &format!("Action=CreateRoute&{V}&RouteTableId={rtb2}&DestinationCidrBlock=0.0.0.0%2F0&GatewayId={igw}"),
        400,
        "InvalidParameterValue",
    );
    s.ok(&format!(
        "Action=DisassociateRouteTable&{V}&AssociationId={edge}"
    ));
    assert!(s.t.route_tables.iter().all(|r| r.gateways.is_empty()));
}

#[test]
fn elastic_ips() {
    let mut s = Session::demo();
    // The first free address of 198.51.100.0/24 (the demo uses .10, .20, .21).
    let body = s.ok(&format!(
        "Action=AllocateAddress&{V}&Domain=vpc&{}",
        named("elastic-ip", "app-eip")
    ));
    let alloc = ids::id(Kind::ElasticIp, "app-eip");
    assert!(body.ends_with(&format!("<publicIp>198.51.100.1</publicIp><allocationId>{alloc}</allocationId><publicIpv4Pool>amazon</publicIpv4Pool><networkBorderGroup>local-1</networkBorderGroup><domain>vpc</domain></AllocateAddressResponse>")), "{body}");
    let body = s.ok(&format!("Action=AllocateAddress&{V}&Domain=vpc"));
    assert_eq!(first(&body, "publicIp"), "198.51.100.2");
    let other = first(&body, "allocationId").to_owned();
    assert!(ids::is_id(Kind::ElasticIp, &other), "{other}");
    s.err(
        &format!("Action=AllocateAddress&{V}&Domain=standard"),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!("Action=AllocateAddress&{V}&Address=198.51.100.10"),
        400,
        "InvalidAddress.InUse",
    );
    let body = s.ok(&format!(
        "Action=DescribeAddresses&{V}&AllocationId.1={alloc}"
    ));
    assert!(body.contains(&format!("<addressesSet><item><publicIp>198.51.100.1</publicIp><allocationId>{alloc}</allocationId><domain>vpc</domain><tagSet><item><key>Name</key><value>app-eip</value></item></tagSet><publicIpv4Pool>amazon</publicIpv4Pool><networkBorderGroup>local-1</networkBorderGroup></item></addressesSet>")), "{body}");
    // Associate with app's interface.
    let app = ids::id(Kind::Instance, "app");
    let body = s.ok(&format!(
        "Action=AssociateAddress&{V}&AllocationId={alloc}&InstanceId={app}"
    ));
    let a = ids::id(Kind::ElasticIpAssociation, "app-eip/app/eth0");
    assert!(
        body.ends_with(&format!(
            "<associationId>{a}</associationId></AssociateAddressResponse>"
        )),
        "{body}"
    );
    let eni = ids::id(Kind::NetworkInterface, "app/eth0");
    let body = s.ok(&format!(
        "Action=DescribeAddresses&{V}&Filter.1.Name=instance-id&Filter.1.Value.1={app}"
    ));
    assert!(body.contains(&format!("<publicIp>198.51.100.1</publicIp><allocationId>{alloc}</allocationId><domain>vpc</domain><instanceId>{app}</instanceId><associationId>{a}</associationId><networkInterfaceId>{eni}</networkInterfaceId><networkInterfaceOwnerId>123456789012</networkInterfaceOwnerId><privateIpAddress>10.0.2.10</privateIpAddress>")), "{body}");
    assert_eq!(count(&body, "<publicIp>"), 1);
    let body = s.ok(&format!("Action=DescribeAddresses&{V}&Filter.1.Name=association-id&Filter.1.Value.1={a}&Filter.2.Name=domain&Filter.2.Value.1=vpc"));
    assert_eq!(first(&body, "allocationId"), alloc);
    let body = s.ok(&format!(
        "Action=DescribeAddresses&{V}&PublicIp.1=198.51.100.2"
    ));
    assert_eq!(first(&body, "allocationId"), other);
    // The same address again: nothing changes; another one needs AllowReassociation.
    s.ok(&format!(
        "Action=AssociateAddress&{V}&AllocationId={alloc}&InstanceId={app}"
    ));
    let web = ids::id(Kind::Instance, "web");
    s.err(
        &format!("Action=AssociateAddress&{V}&AllocationId={alloc}&InstanceId={web}"),
        400,
        "Resource.AlreadyAssociated",
    );
    s.err(
        &format!("Action=AssociateAddress&{V}&AllocationId={alloc}&InstanceId={app}&PrivateIpAddress=10.0.2.11"),
        400,
        "InvalidParameterValue",
    );
    // A NAT gateway's address is not moved or released by these.
    let nat_eip = ids::id(Kind::ElasticIp, "nat-a-eip");
    s.err(
        &format!("Action=AssociateAddress&{V}&AllocationId={nat_eip}&InstanceId={app}&AllowReassociation=true"),
        400,
        "Resource.AlreadyAssociated",
    );
    s.err(
        &format!("Action=ReleaseAddress&{V}&AllocationId={nat_eip}"),
        400,
        "InvalidIPAddress.InUse",
    );
    // Releasing an associated address is refused; disassociated, it goes.
    s.err(
        &format!("Action=ReleaseAddress&{V}&AllocationId={alloc}"),
        400,
        "InvalidIPAddress.InUse",
    );
    s.ok(&format!("Action=DisassociateAddress&{V}&AssociationId={a}"));
    s.err(
        &format!("Action=DisassociateAddress&{V}&AssociationId={a}"),
        400,
        "InvalidAssociationID.NotFound",
    );
    // web gives up its Elastic IP for another one.
    s.ok(&format!(
        "Action=AssociateAddress&{V}&AllocationId={other}&InstanceId={web}"
    ));
    let web_eni = vpc_config::EniId(0);
    assert_eq!(
        s.t.eni_public_ip(web_eni),
        Some("198.51.100.2".parse().unwrap())
    );
    assert!(
        s.t.elastic_ips
            .iter()
            .find(|e| e.name == "web-eip")
            .unwrap()
            .association
            .is_none()
    );
    let body = s.ok(&format!(
        "Action=DescribeAddressesAttribute&{V}&AllocationId.1={alloc}&Attribute=domain-name"
    ));
    assert!(
        body.ends_with("<addressSet></addressSet></DescribeAddressesAttributeResponse>"),
        "{body}"
    );
    s.err(
        &format!("Action=DescribeAddressesAttribute&{V}&AllocationId.1=eipalloc-00000000000000000&Attribute=domain-name"),
        400,
        "InvalidAllocationID.NotFound",
    );
    s.ok(&format!("Action=ReleaseAddress&{V}&AllocationId={alloc}"));
    assert!(!s.t.tags.contains_key(&alloc));
    s.err(
        &format!("Action=DescribeAddresses&{V}&AllocationId.1={alloc}"),
        400,
        "InvalidAllocationID.NotFound",
    );
    s.err(
        &format!("Action=DescribeAddresses&{V}&PublicIp.1=198.51.100.1"),
        400,
        "InvalidAddress.NotFound",
    );
}

#[test]
fn an_elastic_ip_needs_an_internet_gateway() {
    let text = "[[vpc]]\nname = \"v\"\ncidr = \"10.0.0.0/16\"\n\n[[subnet]]\nname = \"a\"\nvpc = \"v\"\ncidr = \"10.0.1.0/24\"\naz = \"a\"\n\n[[instance]]\nname = \"box\"\nsubnet = \"a\"\n";
    let mut s = Session::new(vpc_config::parse(text, "t").unwrap());
    let body = s.ok(&format!("Action=AllocateAddress&{V}"));
    let alloc = first(&body, "allocationId").to_owned();
    s.err(
        &format!(
            "Action=AssociateAddress&{V}&AllocationId={alloc}&InstanceId={}",
            ids::id(Kind::Instance, "box")
        ),
        400,
        "Gateway.NotAttached",
    );
    let body = s.err(
        &format!(
            "Action=CreateNatGateway&{V}&SubnetId={}&AllocationId={alloc}",
            ids::id(Kind::Subnet, "a")
        ),
        400,
        "Gateway.NotAttached",
    );
    assert!(body.contains("has no Internet gateway attached"), "{body}");
    // A private NAT gateway needs none.
    let body = s.ok(&format!(
        "Action=CreateNatGateway&{V}&SubnetId={}&ConnectivityType=private",
        ids::id(Kind::Subnet, "a")
    ));
    assert!(body.contains("<privateIp>10.0.1.5</privateIp><isPrimary>true</isPrimary><status>succeeded</status></item></natGatewayAddressSet>"), "{body}");
    assert!(
        body.contains("<connectivityType>private</connectivityType>"),
        "{body}"
    );
}

#[test]
fn nat_gateways() {
    let mut s = Session::empty();
    let (vpc, pub_id, priv_id, _) = network(&mut s);
    let body = s.ok(&format!(
        "Action=AllocateAddress&{V}&Domain=vpc&{}",
        named("elastic-ip", "nat-eip")
    ));
    let alloc = first(&body, "allocationId").to_owned();
    let create = format!(
        "Action=CreateNatGateway&{V}&SubnetId={pub_id}&AllocationId={alloc}&ClientToken=abc&{}",
        named("natgateway", "nat-1")
    );
    let body = s.ok(&create);
    let nat = ids::id(Kind::NatGateway, "nat-1");
    let eni = ids::id(Kind::NetworkInterface, "nat-1/nat");
    let a = ids::id(Kind::ElasticIpAssociation, "nat-eip/nat-1");
    let shape = |state: &str| {
        format!(
            "<natGatewayAddressSet><item><allocationId>{alloc}</allocationId><networkInterfaceId>{eni}</networkInterfaceId><privateIp>10.0.1.4</privateIp><publicIp>198.51.100.1</publicIp><associationId>{a}</associationId><isPrimary>true</isPrimary><status>succeeded</status></item></natGatewayAddressSet><natGatewayId>{nat}</natGatewayId><state>{state}</state><subnetId>{pub_id}</subnetId><vpcId>{vpc}</vpcId><tagSet><item><key>Name</key><value>nat-1</value></item></tagSet><connectivityType>public</connectivityType>"
        )
    };
    assert!(
        body.contains(&format!(
            "<clientToken>abc</clientToken><natGateway>{}</natGateway>",
            shape("pending")
        )),
        "{body}"
    );
    // The token again: the same NAT gateway, nothing changed.
    let before = s.t.clone();
    let again = s.ok(&create);
    assert_eq!(first(&again, "natGateway"), first(&body, "natGateway"));
    assert_eq!(s.t, before);
    s.err(
        &format!(
            "Action=CreateNatGateway&{V}&SubnetId={priv_id}&AllocationId={alloc}&ClientToken=abc"
        ),
        400,
        "IdempotentParameterMismatch",
    );
    // Its Elastic IP is taken.
    s.err(
        &format!("Action=CreateNatGateway&{V}&SubnetId={priv_id}&AllocationId={alloc}"),
        400,
        "Resource.AlreadyAssociated",
    );
    s.err(
        &format!("Action=CreateNatGateway&{V}&SubnetId={priv_id}"),
        400,
        "MissingParameter",
    );
    let body = s.ok(&format!("Action=DescribeNatGateways&{V}&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc}&Filter.2.Name=state&Filter.2.Value.1=available"));
    assert!(
        body.contains(&format!(
            "<natGatewaySet><item>{}</item></natGatewaySet>",
            shape("available")
        )),
        "{body}"
    );
    let body = s.ok(&format!(
        "Action=DescribeAddresses&{V}&AllocationId.1={alloc}"
    ));
    assert!(body.contains(&format!("<associationId>{a}</associationId><networkInterfaceId>{eni}</networkInterfaceId><networkInterfaceOwnerId>123456789012</networkInterfaceOwnerId><privateIpAddress>10.0.1.4</privateIpAddress>")), "{body}");
    s.err(
        &format!("Action=DescribeNatGateways&{V}&NatGatewayId.1=nat-00000000000000000"),
        400,
        "NatGatewayNotFound",
    );
    // A route to it; deleted, the route turns blackhole and the address is free.
    let main = ids::id(Kind::RouteTable, "net-main");
    s.ok(&format!("Action=CreateRoute&{V}&RouteTableId={main}&DestinationCidrBlock=0.0.0.0%2F0&NatGatewayId={nat}"));
    let body = s.ok(&format!("Action=DeleteNatGateway&{V}&NatGatewayId={nat}"));
    assert!(
        body.ends_with(&format!(
            "<natGatewayId>{nat}</natGatewayId></DeleteNatGatewayResponse>"
        )),
        "{body}"
    );
    assert!(s.t.nat_gateways[0].deleted);
    assert!(s.t.elastic_ips[0].association.is_none());
    let body = s.ok(&format!(
        "Action=DescribeNatGateways&{V}&NatGatewayId.1={nat}"
    ));
    assert!(body.contains(&format!("<item><networkInterfaceId>{eni}</networkInterfaceId><privateIp>10.0.1.4</privateIp><isPrimary>true</isPrimary><status>succeeded</status></item></natGatewayAddressSet><natGatewayId>{nat}</natGatewayId><state>deleted</state>")), "{body}");
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&RouteTableId.1={main}"
    ));
    assert!(body.contains(&format!("<destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><natGatewayId>{nat}</natGatewayId><state>blackhole</state>")), "{body}");
    // Deleting it again answers the same; a new route to it is refused.
    s.ok(&format!("Action=DeleteNatGateway&{V}&NatGatewayId={nat}"));
    s.err(
        &format!("Action=CreateRoute&{V}&RouteTableId={main}&DestinationCidrBlock=10.9.0.0%2F16&NatGatewayId={nat}"),
        400,
        "InvalidNatGatewayID.NotFound",
    );
    // The subnet cannot go while the blackhole route names its deleted NAT gateway;
    // once the route is gone, the NAT gateway goes with the subnet.
    s.err(
        &format!("Action=DeleteSubnet&{V}&SubnetId={pub_id}"),
        400,
        "DependencyViolation",
    );
    s.ok(&format!(
        "Action=DeleteRoute&{V}&RouteTableId={main}&DestinationCidrBlock=0.0.0.0%2F0"
    ));
    s.ok(&format!("Action=DeleteSubnet&{V}&SubnetId={pub_id}"));
    assert!(s.t.nat_gateways.is_empty());
    assert!(!s.t.tags.contains_key(&nat));
    s.ok(&format!("Action=ReleaseAddress&{V}&AllocationId={alloc}"));
    assert!(s.t.elastic_ips.is_empty());
}

/// The calls Terraform makes for a public and a private subnet with an internet
/// gateway, a NAT gateway and their route tables: the topology is the file a person
/// would write, and reads back from it unchanged.
#[test]
fn a_public_and_private_network_round_trips_through_the_file() {
    let mut s = Session::empty();
    let (vpc, pub_id, priv_id, igw) = network(&mut s);
    let body = s.ok(&format!(
        "Action=CreateRouteTable&{V}&VpcId={vpc}&ClientToken=t1&{}",
        named("route-table", "public-rt")
    ));
    let public_rt = first(&body, "routeTableId").to_owned();
    s.ok(&format!("Action=CreateRoute&{V}&RouteTableId={public_rt}&DestinationCidrBlock=0.0.0.0%2F0&GatewayId={igw}"));
    s.ok(&format!(
        "Action=AssociateRouteTable&{V}&RouteTableId={public_rt}&SubnetId={pub_id}"
    ));
    let body = s.ok(&format!(
        "Action=AllocateAddress&{V}&Domain=vpc&{}",
        named("elastic-ip", "nat-eip")
    ));
    let alloc = first(&body, "allocationId").to_owned();
    let body = s.ok(&format!(
        "Action=CreateNatGateway&{V}&SubnetId={pub_id}&AllocationId={alloc}&ClientToken=t2&{}",
        named("natgateway", "nat")
    ));
    let nat = first(&body, "natGatewayId").to_owned();
    let body = s.ok(&format!(
        "Action=CreateRouteTable&{V}&VpcId={vpc}&ClientToken=t3&{}",
        named("route-table", "private-rt")
    ));
    let private_rt = first(&body, "routeTableId").to_owned();
    s.ok(&format!("Action=CreateRoute&{V}&RouteTableId={private_rt}&DestinationCidrBlock=0.0.0.0%2F0&NatGatewayId={nat}"));
    s.ok(&format!(
        "Action=AssociateRouteTable&{V}&RouteTableId={private_rt}&SubnetId={priv_id}"
    ));
    let body = s.ok(&format!(
        "Action=DescribeRouteTables&{V}&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc}"
    ));
    assert_eq!(count(&body, "<routeTableAssociationId>"), 3, "{body}");
    assert_eq!(count(&body, "<main>true</main>"), 1, "{body}");
    assert!(body.contains(&format!("<routeTableId>{private_rt}</routeTableId><vpcId>{vpc}</vpcId><ownerId>123456789012</ownerId><routeSet><item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><state>active</state><origin>CreateRouteTable</origin></item><item><destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><natGatewayId>{nat}</natGatewayId><state>active</state><origin>CreateRoute</origin></item></routeSet><associationSet><item><main>false</main><routeTableAssociationId>{}</routeTableAssociationId><routeTableId>{private_rt}</routeTableId><subnetId>{priv_id}</subnetId>", assoc("private-rt/priv"))), "{body}");
    let text = vpc_config::to_toml(&s.t);
    let back = vpc_config::parse(&text, "state").unwrap();
    assert_eq!(back, s.t);
    let tables = &text[text.find("[[route_table]]").unwrap()..text.find("[tags.").unwrap()];
    assert_eq!(
        tables,
        "[[route_table]]\nname = \"public-rt\"\nvpc = \"net\"\nsubnets = [\"pub\"]\nroute = [{ destination = \"0.0.0.0/0\", internet_gateway = \"gw\" }]\n\n[[route_table]]\nname = \"private-rt\"\nvpc = \"net\"\nsubnets = [\"priv\"]\nroute = [{ destination = \"0.0.0.0/0\", nat_gateway = \"nat\" }]\n\n[[internet_gateway]]\nname = \"gw\"\nvpc = \"net\"\n\n[[elastic_ip]]\nname = \"nat-eip\"\naddress = \"198.51.100.1\"\n\n[[nat_gateway]]\nname = \"nat\"\nsubnet = \"pub\"\nelastic_ips = [\"nat-eip\"]\nprivate_ips = [\"10.0.1.4\"]\n\n"
    );
    // The topology means what the file says.
    let public = &s.t.route_tables[0];
    assert_eq!(public.name, "public-rt");
    assert_eq!(
        public.routes[1].target,
        vpc_config::RouteTarget::InternetGateway(vpc_config::InternetGatewayId(0))
    );
    assert_eq!(s.t.subnets[1].route_table.index(), 1);
    assert_eq!(
        s.t.public_mappings(),
        [(
            vpc_config::VpcId(0),
            "10.0.1.4".parse().unwrap(),
            "198.51.100.1".parse().unwrap()
        )]
    );
}

/// Another account sees no route table, association, NAT gateway or associated
/// Elastic IP of the caller's VPCs, and changes none.
#[test]
fn another_account_sees_and_changes_nothing() {
    let mut s = Session::demo();
    let rt = ids::id(Kind::RouteTable, "public-rt");
    let nat = ids::id(Kind::NatGateway, "nat-a");
    let web_eip = ids::id(Kind::ElasticIp, "web-eip");
    let mut other = |body: String| s.call_as(OTHER_KEY, "ec2", DEMO_REGION, &body);
    let r = other(format!(
        "Action=CreateRoute&{V}&RouteTableId={rt}&DestinationCidrBlock=10.9.0.0%2F16&NatGatewayId={nat}"
    ));
    assert!(
        r.body.contains("<Code>InvalidRouteTableID.NotFound</Code>"),
        "{}",
        r.body
    );
    let r = other(format!("Action=DescribeNatGateways&{V}"));
    assert!(
        r.body.contains("<natGatewaySet></natGatewaySet>"),
        "{}",
        r.body
    );
    let r = other(format!("Action=DescribeAddresses&{V}"));
    assert!(
        r.body.contains("<addressesSet></addressesSet>"),
        "{}",
        r.body
    );
    let r = other(format!("Action=ReleaseAddress&{V}&AllocationId={web_eip}"));
    assert!(
        r.body.contains("<Code>InvalidAllocationID.NotFound</Code>"),
        "{}",
        r.body
    );
    let r = other(format!(
        "Action=DisassociateRouteTable&{V}&AssociationId={}",
        assoc("public-rt/public-a")
    ));
    assert!(
        r.body
            .contains("<Code>InvalidAssociationID.NotFound</Code>"),
        "{}",
        r.body
    );
    // The owner sees the association by its ID, and its NAT gateways' addresses.
    let body = s.ok(&format!("Action=DescribeRouteTables&{V}&Filter.1.Name=association.route-table-association-id&Filter.1.Value.1={}", assoc("public-rt/public-a")));
    assert_eq!(first(&body, "routeTableId"), rt);
    let body = s.ok(&format!(
        "Action=DescribeAddresses&{V}&Filter.1.Name=public-ip&Filter.1.Value.1=198.51.100.2*"
    ));
    assert_eq!(count(&body, "<publicIp>"), 2, "{body}");
}
