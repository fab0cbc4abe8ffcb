//! The API end to end: signed requests with literal bodies against a topology, the
//! XML answered, and the topology returned.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

#[test]
fn create_vpc_then_describe_it_by_filter() {
    let mut s = Session::empty();
    let body = s.ok(&format!(
        "Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=main&TagSpecification.1.Tag.2.Key=env&TagSpecification.1.Tag.2.Value=dev"
    ));
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateVpcResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>"), "{body}");
    let id = ids::id(Kind::Vpc, "main");
    assert!(body.contains(&format!("<vpc><vpcId>{id}</vpcId><ownerId>123456789012</ownerId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock>")), "{body}");
    assert!(body.contains("<tagSet><item><key>Name</key><value>main</value></item><item><key>env</key><value>dev</value></item></tagSet>"), "{body}");
    // The Name tag named it; its implicit resources exist, as in AWS.
    assert_eq!(s.t.vpcs[0].name, "main");
    assert_eq!(s.t.route_tables.len(), 1);
    assert_eq!(s.t.security_groups.len(), 1);
    assert_eq!(s.t.network_acls.len(), 1);
    // A second VPC without a Name: a fresh ID is its name.
    let body = s.ok(&format!("Action=CreateVpc&{V}&CidrBlock=10.1.0.0%2F16"));
    let other = first(&body, "vpcId").to_owned();
    assert!(ids::is_id(Kind::Vpc, &other), "{other}");
    assert_eq!(s.t.vpcs[1].name, other);
    assert!(!body.contains("<tagSet>"), "{body}");
    // Filter by tag, by ID, by CIDR with a wildcard.
    let body = s.ok(&format!(
        "Action=DescribeVpcs&{V}&Filter.1.Name=tag%3AName&Filter.1.Value.1=main"
    ));
    assert_eq!(count(&body, "<vpcId>"), 1);
    assert!(
        body.contains(&format!("<vpcSet><item><vpcId>{id}</vpcId>")),
        "{body}"
    );
    let body = s.ok(&format!("Action=DescribeVpcs&{V}&Filter.1.Name=cidr-block-association.cidr-block&Filter.1.Value.1=10.1.*"));
    assert_eq!(first(&body, "vpcId"), other);
    let body = s.ok(&format!(
        "Action=DescribeVpcs&{V}&VpcId.1={other}&VpcId.2={id}"
    ));
    assert_eq!(count(&body, "<vpcId>"), 2);
    let body = s.ok(&format!("Action=DescribeVpcs&{V}&Filter.1.Name=tag-key&Filter.1.Value.1=env&Filter.2.Name=is-default&Filter.2.Value.1=false"));
    assert_eq!(count(&body, "<vpcId>"), 1);
    let body = s.ok(&format!(
        "Action=DescribeVpcs&{V}&Filter.1.Name=owner-id&Filter.1.Value.1=999999999999"
    ));
    assert!(body.contains("<vpcSet></vpcSet>"), "{body}");
    s.err(
        &format!("Action=DescribeVpcs&{V}&Filter.1.Name=color&Filter.1.Value.1=x"),
        400,
        "InvalidParameterValue",
    );
    // Another account sees none of them.
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "us-east-1",
        &format!("Action=DescribeVpcs&{V}"),
    );
    assert!(r.body.contains("<vpcSet></vpcSet>"), "{}", r.body);
}

#[test]
fn a_vpc_of_another_account_and_region_is_theirs() {
    let mut s = Session::empty();
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "eu-west-1",
        &format!("Action=CreateVpc&{V}&CidrBlock=10.9.0.0%2F16"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.t.vpcs[0].owner_id, "444455556666");
    assert_eq!(s.t.vpcs[0].region, "eu-west-1");
    let body = s.ok(&format!("Action=DescribeVpcs&{V}"));
    assert!(body.contains("<vpcSet></vpcSet>"), "{body}");
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "eu-west-1",
        &format!("Action=DescribeVpcs&{V}"),
    );
    assert_eq!(count(&r.body, "<vpcId>"), 1);
}

#[test]
fn vpc_errors() {
    let mut s = Session::demo();
    let demo = ids::id(Kind::Vpc, &s.t.vpcs[0].name);
    let body = s.err(
        &format!("Action=DeleteVpc&{V}&VpcId={demo}"),
        400,
        "DependencyViolation",
    );
    assert!(
        body.contains(&format!(
            "The vpc &apos;{demo}&apos; has dependencies and cannot be deleted"
        )),
        "{body}"
    );
    assert!(body.ends_with("</RequestID></Response>"), "{body}");
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>DependencyViolation</Code>"), "{body}");
    let body = s.err(
        &format!("Action=DescribeVpcs&{V}&VpcId.1=vpc-00000000000000000"),
        400,
        "InvalidVpcID.NotFound",
    );
    assert!(
        body.contains(
            "<Message>The vpc ID &apos;vpc-00000000000000000&apos; does not exist</Message>"
        ),
        "{body}"
    );
    s.err(
        &format!("Action=DeleteVpc&{V}&VpcId=vpc-00000000"),
        400,
        "InvalidVpcID.NotFound",
    );
    s.err(
        &format!("Action=DeleteVpc&{V}&VpcId=nothing"),
        400,
        "InvalidVpcID.Malformed",
    );
    s.err(&format!("Action=DeleteVpc&{V}"), 400, "MissingParameter");
    s.err(
        &format!("Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F8"),
        400,
        "InvalidVpc.Range",
    );
    s.err(
        &format!("Action=CreateVpc&{V}&CidrBlock=10.0.0.1%2F16"),
        400,
        "InvalidParameterValue",
    );
    // vpc-config's own checks: a block in a special range.
    let body = s.err(
        &format!("Action=CreateVpc&{V}&CidrBlock=127.0.0.0%2F16"),
        400,
        "InvalidParameterValue",
    );
    assert!(
        body.contains("127.0.0.0/16 is not usable for a VPC"),
        "{body}"
    );
    s.err(
        &format!("Action=DescribeVpcs&{V}&MaxResults=4"),
        400,
        "InvalidParameterValue",
    );
    // The name given as an ID works too.
    let name = s.t.vpcs[0].name.clone();
    s.ok(&format!("Action=DescribeVpcs&{V}&VpcId.1={name}"));
}

#[test]
fn unknown_actions_bad_signatures_and_sts() {
    let mut s = Session::empty();
    let body = s.err(&format!("Action=RunFaster&{V}"), 400, "InvalidAction");
    assert!(
        body.contains("<Message>The action RunFaster is not valid for this web service.</Message>"),
        "{body}"
    );
    // A wrong signature.
    let text = format!("Action=DescribeVpcs&{V}");
    let mut headers = signed(KEY, "ec2", "us-east-1", &text);
    let auth = headers
        .iter_mut()
        .find(|(k, _)| k == "Authorization")
        .unwrap();
    auth.1 = auth.1.replace("Signature=", "Signature=00");
    let req = Request {
        method: "POST",
        path_and_query: "/",
        headers: &headers,
        body: text.as_bytes(),
    };
    let (r, t) = s.api.handle(&req, &s.t, now());
    assert_eq!(r.status, 401);
    assert!(t.is_none());
    assert!(r.body.contains("<Code>AuthFailure</Code>"), "{}", r.body);
    // Unsigned.
    let req = Request {
        method: "POST",
        path_and_query: "/",
        headers: &[],
        body: text.as_bytes(),
    };
    assert_eq!(s.api.handle(&req, &s.t, now()).0.status, 401);
    // Stale.
    let req = Request {
        method: "POST",
        path_and_query: "/",
        headers: &signed(KEY, "ec2", "us-east-1", &text),
        body: text.as_bytes(),
    };
    let (r, _) = s
        .api
        .handle(&req, &s.t, now() + Duration::from_secs(16 * 60));
    assert_eq!(r.status, 401, "{}", r.body);
    // STS.
    let r = s.call_as(
        OTHER_KEY,
        "sts",
        "us-east-1",
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::444455556666:root</Arn><UserId>444455556666</UserId><Account>444455556666</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>"), "{}", r.body);
    let r = s.call_as(
        KEY,
        "sts",
        "us-east-1",
        "Action=AssumeRole&Version=2011-06-15",
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("<ErrorResponse") && r.body.contains("<Code>InvalidAction</Code>"),
        "{}",
        r.body
    );
}

#[test]
fn get_with_a_query_string() {
    let s = Session::demo();
    let query = format!(
        "/?Action=DescribeAvailabilityZones&{V}&Filter.1.Name=state&Filter.1.Value.1=available"
    );
    let mut headers = vec![("Host".to_owned(), "localhost:4566".to_owned())];
    headers.extend(sigv4::sign(
        "GET",
        &query,
        &headers,
        b"",
        KEY,
        SECRET,
        "us-west-2",
        "ec2",
        now(),
    ));
    let req = Request {
        method: "GET",
        path_and_query: &query,
        headers: &headers,
        body: b"",
    };
    let (r, t) = s.api.handle(&req, &s.t, now());
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(t.is_none());
    assert_eq!(count(&r.body, "<zoneName>"), 6);
    assert!(r.body.contains("<availabilityZoneInfo><item><zoneName>us-west-2a</zoneName><zoneState>available</zoneState><regionName>us-west-2</regionName><zoneId>usw2-az1</zoneId>"), "{}", r.body);
}

#[test]
fn zones_and_regions() {
    let mut s = Session::empty();
    let body = s.ok(&format!("Action=DescribeAvailabilityZones&{V}&Filter.1.Name=zone-name&Filter.1.Value.1=us-east-1b&Filter.1.Value.2=us-east-1c"));
    assert_eq!(count(&body, "<zoneName>"), 2);
    assert!(
        body.contains("<zoneName>us-east-1b</zoneName>")
            && body.contains("<zoneId>use1-az3</zoneId>"),
        "{body}"
    );
    let body = s.ok(&format!(
        "Action=DescribeRegions&{V}&RegionName.1=eu-west-1"
    ));
    assert!(body.contains("<regionInfo><item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item></regionInfo>"), "{body}");
    let body = s.ok(&format!("Action=DescribeRegions&{V}"));
    assert!(count(&body, "<regionName>") >= 17, "{body}");
}

#[test]
fn vpc_attributes() {
    let mut s = Session::empty();
    let body = s.ok(&format!("Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16"));
    let id = first(&body, "vpcId").to_owned();
    let body = s.ok(&format!(
        "Action=DescribeVpcAttribute&{V}&VpcId={id}&Attribute=enableDnsHostnames"
    ));
    assert!(
        body.contains(&format!(
            "<vpcId>{id}</vpcId><enableDnsHostnames><value>false</value></enableDnsHostnames>"
        )),
        "{body}"
    );
    let body = s.ok(&format!(
        "Action=DescribeVpcAttribute&{V}&VpcId={id}&Attribute=enableDnsSupport"
    ));
    assert!(
        body.contains("<enableDnsSupport><value>true</value></enableDnsSupport>"),
        "{body}"
    );
    let body = s.ok(&format!(
        "Action=ModifyVpcAttribute&{V}&VpcId={id}&EnableDnsHostnames.Value=true"
    ));
    assert!(body.contains("<return>true</return>"), "{body}");
    assert!(s.t.vpcs[0].enable_dns_hostnames);
    assert!(vpc_config::to_toml(&s.t).contains("enable_dns_hostnames = true"));
    let body = s.ok(&format!(
        "Action=DescribeVpcAttribute&{V}&VpcId={id}&Attribute=enableDnsHostnames"
    ));
    assert!(
        body.contains("<enableDnsHostnames><value>true</value></enableDnsHostnames>"),
        "{body}"
    );
    s.err(&format!("Action=ModifyVpcAttribute&{V}&VpcId={id}&EnableDnsHostnames.Value=true&EnableDnsSupport.Value=false"), 400, "InvalidParameterCombination");
    s.err(
        &format!("Action=DescribeVpcAttribute&{V}&VpcId={id}&Attribute=color"),
        400,
        "InvalidParameterValue",
    );
}

#[test]
fn subnets() {
    let mut s = Session::empty();
    let body = s.ok(&format!("Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=app"));
    let vpc = first(&body, "vpcId").to_owned();
    let body = s.ok(&format!("Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.0.1.0%2F24&AvailabilityZone=us-east-1b&TagSpecification.1.ResourceType=subnet&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web&TagSpecification.1.Tag.2.Key=Tier&TagSpecification.1.Tag.2.Value=public"));
    let web = ids::id(Kind::Subnet, "web");
    assert!(body.contains(&format!("<subnet><subnetId>{web}</subnetId><subnetArn>arn:aws:ec2:us-east-1:123456789012:subnet/{web}</subnetArn><state>available</state><ownerId>123456789012</ownerId><vpcId>{vpc}</vpcId><cidrBlock>10.0.1.0/24</cidrBlock><availableIpAddressCount>251</availableIpAddressCount><availabilityZone>us-east-1b</availabilityZone><availabilityZoneId>use1-az2</availabilityZoneId><defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>false</mapPublicIpOnLaunch>")), "{body}");
    assert_eq!(s.t.subnets[0].az, "b");
    s.ok(&format!(
        "Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.0.2.0%2F24&AvailabilityZoneId=use1-az3"
    ));
    assert_eq!(s.t.subnets[1].az, "c");
    s.err(
        &format!("Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.0.1.128%2F25"),
        400,
        "InvalidSubnet.Conflict",
    );
    s.err(
        &format!("Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.1.0.0%2F24"),
        400,
        "InvalidSubnet.Range",
    );
    s.err(
        &format!("Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.0.0.0%2F29"),
        400,
        "InvalidSubnet.Range",
    );
    s.err(&format!("Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.0.9.0%2F24&AvailabilityZone=eu-west-1a"), 400, "InvalidParameterValue");
    s.err(
        &format!("Action=CreateSubnet&{V}&VpcId=vpc-11111111111111111&CidrBlock=10.0.9.0%2F24"),
        400,
        "InvalidVpcID.NotFound",
    );
    // Filters.
    let body = s.ok(&format!("Action=DescribeSubnets&{V}&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc}&Filter.2.Name=tag%3ATier&Filter.2.Value.1=public"));
    assert_eq!(count(&body, "<subnetId>"), 1);
    assert!(
        body.contains(&format!("<subnetSet><item><subnetId>{web}</subnetId>")),
        "{body}"
    );
    let body = s.ok(&format!(
        "Action=DescribeSubnets&{V}&Filter.1.Name=availability-zone&Filter.1.Value.1=us-east-1c"
    ));
    assert_eq!(count(&body, "<subnetId>"), 1);
    let body = s.ok(&format!("Action=DescribeSubnets&{V}&Filter.1.Name=cidr-block&Filter.1.Value.1=10.0.*.0%2F24&Filter.2.Name=default-for-az&Filter.2.Value.1=false&Filter.3.Name=state&Filter.3.Value.1=available"));
    assert_eq!(count(&body, "<subnetId>"), 2);
    s.err(
        &format!("Action=DescribeSubnets&{V}&SubnetId.1=subnet-22222222222222222"),
        400,
        "InvalidSubnetID.NotFound",
    );
    // MapPublicIpOnLaunch.
    s.ok(&format!(
        "Action=ModifySubnetAttribute&{V}&SubnetId={web}&MapPublicIpOnLaunch.Value=true"
    ));
    assert!(s.t.subnets[0].map_public_ip_on_launch);
    let body = s.ok(&format!("Action=DescribeSubnets&{V}&SubnetId.1={web}"));
    assert!(
        body.contains("<mapPublicIpOnLaunch>true</mapPublicIpOnLaunch>"),
        "{body}"
    );
    // The VPC has subnets: not deleted.
    s.err(
        &format!("Action=DeleteVpc&{V}&VpcId={vpc}"),
        400,
        "DependencyViolation",
    );
    // A subnet with an instance is not deleted either.
    let mut with_instance = s.t.clone();
    with_instance = vpc_config::parse(
        &(vpc_config::to_toml(&with_instance)
            + "\n[[instance]]\nname = \"box\"\nsubnet = \"web\"\n"),
        "t",
    )
    .unwrap();
    let mut s2 = Session::new(with_instance);
    let body = s2.err(
        &format!("Action=DeleteSubnet&{V}&SubnetId={web}"),
        400,
        "DependencyViolation",
    );
    assert!(body.contains("has dependencies"), "{body}");
    // Delete both subnets, then the VPC: the topology is empty again, tags included.
    let other = ids::id(Kind::Subnet, &s.t.subnets[1].name);
    s.ok(&format!("Action=DeleteSubnet&{V}&SubnetId={web}"));
    s.ok(&format!("Action=DeleteSubnet&{V}&SubnetId={other}"));
    s.err(
        &format!("Action=DeleteSubnet&{V}&SubnetId={web}"),
        400,
        "InvalidSubnetID.NotFound",
    );
    s.ok(&format!("Action=DeleteVpc&{V}&VpcId={vpc}"));
    assert_eq!(s.t, vpc_config::parse("", "empty").unwrap());
    s.err(
        &format!("Action=DescribeVpcs&{V}&VpcId.1={vpc}"),
        400,
        "InvalidVpcID.NotFound",
    );
}

#[test]
fn tags() {
    let mut s = Session::demo();
    let vpc_name = s.t.vpcs[0].name.clone();
    let vpc = ids::id(Kind::Vpc, &vpc_name);
    let subnet = ids::id(Kind::Subnet, &s.t.subnets[0].name);
    // A resource of the file shows its name as Name.
    let body = s.ok(&format!(
        "Action=DescribeTags&{V}&Filter.1.Name=resource-id&Filter.1.Value.1={vpc}"
    ));
    assert!(body.contains(&format!("<tagSet><item><resourceId>{vpc}</resourceId><resourceType>vpc</resourceType><key>Name</key><value>{vpc_name}</value></item></tagSet>")), "{body}");
    s.ok(&format!("Action=CreateTags&{V}&ResourceId.1={vpc}&ResourceId.2={subnet}&Tag.1.Key=env&Tag.1.Value=dev&Tag.2.Key=Name&Tag.2.Value=renamed"));
    assert_eq!(s.t.tags[&vpc]["env"], "dev");
    // Name does not rename.
    assert_eq!(s.t.vpcs[0].name, vpc_name);
    let toml = vpc_config::to_toml(&s.t);
    assert!(
        toml.contains(&format!(
            "[tags.\"{vpc}\"]\n\"Name\" = \"renamed\"\n\"env\" = \"dev\"\n"
        )),
        "{toml}"
    );
    let body = s.ok(&format!(
        "Action=DescribeTags&{V}&Filter.1.Name=key&Filter.1.Value.1=env"
    ));
    assert_eq!(count(&body, "<resourceId>"), 2);
    let body = s.ok(&format!("Action=DescribeTags&{V}&Filter.1.Name=resource-type&Filter.1.Value.1=subnet&Filter.2.Name=value&Filter.2.Value.1=renamed"));
    assert!(body.contains(&format!("<resourceId>{subnet}</resourceId><resourceType>subnet</resourceType><key>Name</key><value>renamed</value>")), "{body}");
    let body = s.ok(&format!(
        "Action=DescribeVpcs&{V}&Filter.1.Name=tag%3AName&Filter.1.Value.1=renamed"
    ));
    assert_eq!(first(&body, "vpcId"), vpc);
    // Delete with a non-matching value: kept; without a value: gone.
    s.ok(&format!(
        "Action=DeleteTags&{V}&ResourceId.1={vpc}&Tag.1.Key=env&Tag.1.Value=prod"
    ));
    assert_eq!(s.t.tags[&vpc]["env"], "dev");
    s.ok(&format!(
        "Action=DeleteTags&{V}&ResourceId.1={vpc}&Tag.1.Key=env"
    ));
    assert!(!s.t.tags[&vpc].contains_key("env"));
    s.ok(&format!(
        "Action=DeleteTags&{V}&ResourceId.1={vpc}&ResourceId.2={subnet}"
    ));
    assert!(s.t.tags.is_empty());
    s.err(
        &format!("Action=CreateTags&{V}&ResourceId.1=vpc-33333333333333333&Tag.1.Key=a"),
        400,
        "InvalidVpcID.NotFound",
    );
    s.err(
        &format!("Action=CreateTags&{V}&ResourceId.1=foo-1&Tag.1.Key=a"),
        400,
        "InvalidID",
    );
    let body = s.err(
        &format!("Action=CreateTags&{V}&ResourceId.1={vpc}&Tag.1.Key=aws%3Ax&Tag.1.Value=1"),
        400,
        "InvalidParameterValue",
    );
    assert!(body.contains("which AWS reserves"), "{body}");
    let many: String = (0..51)
        .map(|i| format!("&Tag.{}.Key=k{i}", i + 1))
        .collect();
    s.err(
        &format!("Action=CreateTags&{V}&ResourceId.1={vpc}{many}"),
        400,
        "TagLimitExceeded",
    );
}

#[test]
fn internet_gateways() {
    let mut s = Session::empty();
    let body = s.ok(&format!("Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16"));
    let vpc = first(&body, "vpcId").to_owned();
    let body = s.ok(&format!("Action=CreateInternetGateway&{V}&TagSpecification.1.ResourceType=internet-gateway&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=gw"));
    let igw = ids::id(Kind::InternetGateway, "gw");
    assert!(body.contains(&format!("<internetGateway><attachmentSet></attachmentSet><internetGatewayId>{igw}</internetGatewayId><ownerId>123456789012</ownerId><tagSet><item><key>Name</key><value>gw</value></item></tagSet></internetGateway>")), "{body}");
    s.ok(&format!(
        "Action=AttachInternetGateway&{V}&InternetGatewayId={igw}&VpcId={vpc}"
    ));
    assert_eq!(s.t.internet_gateways[0].vpc, Some(vpc_config::VpcId(0)));
    s.err(
        &format!("Action=AttachInternetGateway&{V}&InternetGatewayId={igw}&VpcId={vpc}"),
        400,
        "Resource.AlreadyAssociated",
    );
    let body = s.ok(&format!(
        "Action=DescribeInternetGateways&{V}&Filter.1.Name=attachment.vpc-id&Filter.1.Value.1={vpc}"
    ));
    assert!(body.contains(&format!("<internetGatewaySet><item><attachmentSet><item><vpcId>{vpc}</vpcId><state>available</state></item></attachmentSet><internetGatewayId>{igw}</internetGatewayId>")), "{body}");
    s.err(
        &format!("Action=DeleteInternetGateway&{V}&InternetGatewayId={igw}"),
        400,
        "DependencyViolation",
    );
    s.err(
        &format!("Action=DeleteVpc&{V}&VpcId={vpc}"),
        400,
        "DependencyViolation",
    );
    s.ok(&format!(
        "Action=DetachInternetGateway&{V}&InternetGatewayId={igw}&VpcId={vpc}"
    ));
    s.err(
        &format!("Action=DetachInternetGateway&{V}&InternetGatewayId={igw}&VpcId={vpc}"),
        400,
        "Gateway.NotAttached",
    );
    s.ok(&format!(
        "Action=DeleteInternetGateway&{V}&InternetGatewayId={igw}"
    ));
    assert!(s.t.internet_gateways.is_empty() && s.t.tags.is_empty());
    s.err(
        &format!("Action=DescribeInternetGateways&{V}&InternetGatewayId.1={igw}"),
        400,
        "InvalidInternetGatewayID.NotFound",
    );
}

#[test]
fn pages_of_vpcs() {
    let mut s = Session::empty();
    for i in 0..7 {
        s.ok(&format!("Action=CreateVpc&{V}&CidrBlock=10.{i}.0.0%2F16"));
    }
    let body = s.ok(&format!("Action=DescribeVpcs&{V}&MaxResults=5"));
    assert_eq!(count(&body, "<vpcId>"), 5);
    let token = first(&body, "nextToken").to_owned();
    let body = s.ok(&format!(
        "Action=DescribeVpcs&{V}&MaxResults=5&NextToken={token}"
    ));
    assert_eq!(count(&body, "<vpcId>"), 2);
    assert!(!body.contains("<nextToken>"), "{body}");
}

/// A sequence of calls as Terraform makes them for a two-subnet VPC: the topology reads
/// back from its own file unchanged, and means the same as the file a person writes.
#[test]
fn a_sequence_of_calls_round_trips_through_the_file() {
    let mut s = Session::empty();
    let body = s.ok(&format!("Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=prod"));
    let vpc = first(&body, "vpcId").to_owned();
    s.ok(&format!(
        "Action=ModifyVpcAttribute&{V}&VpcId={vpc}&EnableDnsHostnames.Value=true"
    ));
    s.ok(&format!("Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.0.1.0%2F24&AvailabilityZone=us-east-1a&TagSpecification.1.ResourceType=subnet&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=public-a"));
    let body = s.ok(&format!(
        "Action=CreateSubnet&{V}&VpcId={vpc}&CidrBlock=10.0.2.0%2F24&AvailabilityZone=us-east-1b"
    ));
    let private = first(&body, "subnetId").to_owned();
    s.ok(&format!(
        "Action=ModifySubnetAttribute&{V}&SubnetId={}&MapPublicIpOnLaunch.Value=true",
        ids::id(Kind::Subnet, "public-a")
    ));
    s.ok(&format!(
        "Action=CreateTags&{V}&ResourceId.1={private}&Tag.1.Key=Tier&Tag.1.Value=private"
    ));
    let body = s.ok(&format!("Action=CreateInternetGateway&{V}"));
    let igw = first(&body, "internetGatewayId").to_owned();
    s.ok(&format!(
        "Action=AttachInternetGateway&{V}&InternetGatewayId={igw}&VpcId={vpc}"
    ));
    let text = vpc_config::to_toml(&s.t);
    let back = vpc_config::parse(&text, "state").unwrap();
    assert_eq!(back, s.t);
    assert_eq!(
        text,
        format!(
            "[[vpc]]\nname = \"prod\"\ncidr = \"10.0.0.0/16\"\nenable_dns_hostnames = true\n\n[[subnet]]\nname = \"public-a\"\nvpc = \"prod\"\ncidr = \"10.0.1.0/24\"\naz = \"a\"\nmap_public_ip_on_launch = true\n\n[[subnet]]\nname = \"{private}\"\nvpc = \"prod\"\ncidr = \"10.0.2.0/24\"\naz = \"b\"\n\n[[internet_gateway]]\nname = \"{igw}\"\nvpc = \"prod\"\n\n[tags.\"{}\"]\n\"Name\" = \"public-a\"\n\n[tags.\"{private}\"]\n\"Tier\" = \"private\"\n\n[tags.\"{vpc}\"]\n\"Name\" = \"prod\"\n",
            ids::id(Kind::Subnet, "public-a")
        )
    );
    // IDs are stable: the same names give the same IDs after a restart.
    let again = Session::new(back);
    assert_eq!(ids::id(Kind::Vpc, &again.t.vpcs[0].name), vpc);
}
