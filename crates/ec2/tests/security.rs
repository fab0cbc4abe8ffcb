//! Security groups and network ACLs end to end: signed requests with literal bodies
//! (Terraform's call sequences for `aws_security_group` and `aws_network_acl`), the
//! XML answered, the errors, and the topology returned read back from its own file.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

/// A session with VPC `main` (10.0.0.0/16) and subnet `a` (10.0.1.0/24).
fn with_vpc() -> Session {
    let mut s = Session::empty();
    s.ok(&format!("Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=main"));
    s.ok(&format!("Action=CreateSubnet&{V}&VpcId={}&CidrBlock=10.0.1.0%2F24&TagSpecification.1.ResourceType=subnet&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a", vpc()));
    s
}

fn vpc() -> String {
    ids::id(Kind::Vpc, "main")
}

fn sg(name: &str) -> String {
    ids::id(Kind::SecurityGroup, &format!("main/{name}"))
}

fn acl(name: &str) -> String {
    ids::id(Kind::NetworkAcl, &format!("main/{name}"))
}

/// The rule ID vpcd derives (the formula docs/api.md states).
fn sgr(group: &str, dir: &str, rule: &str) -> String {
    ids::hashed(
        Kind::SecurityGroupRule,
        &format!("sgr/main/{group}/{dir}/{rule}"),
    )
}

/// The body without its request ID.
fn strip_request_id(body: &str) -> String {
    let start = body.find("<requestId>").unwrap();
    let end = body.find("</requestId>").unwrap();
    format!("{}{}", &body[..start], &body[end..])
}

#[test]
fn terraform_aws_security_group_with_a_rule_referencing_another_group() {
    let mut s = with_vpc();
    let (vpc, web, app) = (vpc(), sg("web"), sg("app"));
    // CreateSecurityGroup, as Terraform sends it.
    let body = s.ok(&format!("Action=CreateSecurityGroup&{V}&GroupName=web&GroupDescription=Managed+by+Terraform&VpcId={vpc}&TagSpecification.1.ResourceType=security-group&TagSpecification.1.Tag.1.Key=env&TagSpecification.1.Tag.1.Value=dev"));
    assert!(body.contains(&format!("<groupId>{web}</groupId><tagSet><item><key>env</key><value>dev</value></item></tagSet><securityGroupArn>arn:aws:ec2:us-east-1:123456789012:security-group/{web}</securityGroupArn>")), "{body}");
    // Its waiter: found, with AWS's default egress rule and no ingress.
    let body = s.ok(&format!(
        "Action=DescribeSecurityGroups&{V}&GroupId.1={web}"
    ));
    assert!(body.contains(&format!("<securityGroupInfo><item><ownerId>123456789012</ownerId><groupId>{web}</groupId><groupName>web</groupName><groupDescription>Managed by Terraform</groupDescription><ipPermissions></ipPermissions><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups></groups><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges></ipv6Ranges><prefixListIds></prefixListIds></item></ipPermissionsEgress><vpcId>{vpc}</vpcId><tagSet><item><key>env</key><value>dev</value></item></tagSet>")), "{body}");
    // Revoke the default egress: 0.0.0.0/0 goes; ::/0 is a rule vpcd cannot have,
    // answered as AWS answers a rule that is not there (Terraform ignores that code).
    let body = s.ok(&format!("Action=RevokeSecurityGroupEgress&{V}&GroupId={web}&IpPermissions.1.FromPort=0&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0&IpPermissions.1.ToPort=0"));
    let default_egress = sgr("web", "egress", "all/any/0.0.0.0/0");
    assert!(body.contains(&format!("<return>true</return><revokedSecurityGroupRuleSet><item><securityGroupRuleId>{default_egress}</securityGroupRuleId><groupId>{web}</groupId><isEgress>true</isEgress><ipProtocol>-1</ipProtocol><fromPort>-1</fromPort><toPort>-1</toPort><cidrIpv4>0.0.0.0/0</cidrIpv4></item></revokedSecurityGroupRuleSet>")), "{body}");
    s.err(&format!("Action=RevokeSecurityGroupEgress&{V}&GroupId={web}&IpPermissions.1.FromPort=0&IpPermissions.1.IpProtocol=-1&IpPermissions.1.Ipv6Ranges.1.CidrIpv6=%3A%3A%2F0&IpPermissions.1.ToPort=0"), 400, "InvalidPermission.NotFound");
    // The second time the IPv4 rule is gone too.
    s.err(&format!("Action=RevokeSecurityGroupEgress&{V}&GroupId={web}&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0"), 400, "InvalidPermission.NotFound");
    assert!(
        s.t.security_groups
            .iter()
            .find(|g| g.name == "web")
            .unwrap()
            .egress
            .is_empty()
    );
    s.ok(&format!(
        "Action=CreateSecurityGroup&{V}&GroupName=app&GroupDescription=app&VpcId={vpc}"
    ));
    // Ingress from app's members and from a block, one IpPermission.
    let body = s.ok(&format!("Action=AuthorizeSecurityGroupIngress&{V}&GroupId={web}&IpPermissions.1.FromPort=80&IpPermissions.1.Groups.1.GroupId={app}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F16&IpPermissions.1.IpRanges.1.Description=vpc&IpPermissions.1.ToPort=80"));
    let from_block = sgr("web", "ingress", "tcp/80-80/10.0.0.0/16");
    let from_app = sgr("web", "ingress", &format!("tcp/80-80/{app}"));
    assert!(body.contains(&format!("<return>true</return><securityGroupRuleSet><item><securityGroupRuleId>{from_block}</securityGroupRuleId><groupId>{web}</groupId><groupOwnerId>123456789012</groupOwnerId><isEgress>false</isEgress><ipProtocol>tcp</ipProtocol><fromPort>80</fromPort><toPort>80</toPort><cidrIpv4>10.0.0.0/16</cidrIpv4><description>vpc</description><securityGroupRuleArn>arn:aws:ec2:us-east-1:123456789012:security-group-rule/{from_block}</securityGroupRuleArn></item><item><securityGroupRuleId>{from_app}</securityGroupRuleId>")), "{body}");
    assert!(body.contains(&format!("<referencedGroupInfo><groupId>{app}</groupId><userId>123456789012</userId></referencedGroupInfo>")), "{body}");
    // Twice is a duplicate, whatever the description.
    let body = s.err(&format!("Action=AuthorizeSecurityGroupIngress&{V}&GroupId={web}&IpPermissions.1.FromPort=80&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F16&IpPermissions.1.ToPort=80"), 400, "InvalidPermission.Duplicate");
    assert!(
        body.contains("peer: 10.0.0.0/16, TCP, from port: 80, to port: 80, ALLOW"),
        "{body}"
    );
    // The read Terraform makes (group-name and vpc-id).
    let body = s.ok(&format!("Action=DescribeSecurityGroups&{V}&Filter.1.Name=group-name&Filter.1.Value.1=web&Filter.2.Name=vpc-id&Filter.2.Value.1={vpc}"));
    assert!(body.contains(&format!("<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>80</fromPort><toPort>80</toPort><groups><item><userId>123456789012</userId><groupId>{app}</groupId></item></groups><ipRanges><item><cidrIp>10.0.0.0/16</cidrIp><description>vpc</description></item></ipRanges><ipv6Ranges></ipv6Ranges><prefixListIds></prefixListIds></item></ipPermissions><ipPermissionsEgress></ipPermissionsEgress>")), "{body}");
    assert_eq!(count(&body, "<groupName>"), 1);
    // The rules by group, with the same IDs.
    let body = s.ok(&format!(
        "Action=DescribeSecurityGroupRules&{V}&Filter.1.Name=group-id&Filter.1.Value.1={web}"
    ));
    assert_eq!(count(&body, "<securityGroupRuleId>"), 2, "{body}");
    assert!(
        body.contains(&from_block) && body.contains(&from_app),
        "{body}"
    );
    // app is referenced: it stays.
    let body = s.err(
        &format!("Action=DeleteSecurityGroup&{V}&GroupId={app}"),
        400,
        "DependencyViolation",
    );
    assert!(body.contains(&format!("security group {web}")), "{body}");
    // Destroy: revoke by rule ID, then delete both groups.
    s.ok(&format!(
        "Action=RevokeSecurityGroupIngress&{V}&GroupId={web}&SecurityGroupRuleId.1={from_app}"
    ));
    s.err(
        &format!(
            "Action=RevokeSecurityGroupIngress&{V}&GroupId={web}&SecurityGroupRuleId.1={from_app}"
        ),
        400,
        "InvalidSecurityGroupRuleId.NotFound",
    );
    let body = s.ok(&format!("Action=DeleteSecurityGroup&{V}&GroupId={app}"));
    assert!(
        body.contains(&format!("<return>true</return><groupId>{app}</groupId>")),
        "{body}"
    );
    s.ok(&format!("Action=DeleteSecurityGroup&{V}&GroupId={web}"));
    // Its destroy waiter ends on the NotFound code.
    s.err(
        &format!("Action=DescribeSecurityGroups&{V}&GroupId.1={web}"),
        400,
        "InvalidGroup.NotFound",
    );
    assert!(
        !s.t.tags.contains_key(&web),
        "the group's tags went with it"
    );
    assert_eq!(s.t.security_groups.len(), 1);
}

#[test]
fn the_default_group_shows_cannot_be_deleted_and_takes_rules() {
    let mut s = with_vpc();
    let (vpc, default) = (vpc(), sg("default"));
    // What every aws_vpc read looks up.
    let body = s.ok(&format!("Action=DescribeSecurityGroups&{V}&Filter.1.Name=group-name&Filter.1.Value.1=default&Filter.2.Name=vpc-id&Filter.2.Value.1={vpc}"));
    assert!(body.contains(&format!("<groupId>{default}</groupId><groupName>default</groupName><groupDescription>default VPC security group</groupDescription><ipPermissions><item><ipProtocol>-1</ipProtocol><groups><item><userId>123456789012</userId><groupId>{default}</groupId></item></groups><ipRanges></ipRanges>")), "{body}");
    assert!(!body.contains("<tagSet>"), "no Name tag made up: {body}");
    s.err(
        &format!("Action=DeleteSecurityGroup&{V}&GroupId={default}"),
        400,
        "CannotDelete",
    );
    // The legacy top-level form on the (implicit) default group.
    s.ok(&format!("Action=AuthorizeSecurityGroupIngress&{V}&GroupId={default}&IpProtocol=tcp&FromPort=22&ToPort=22&CidrIp=192.0.2.0%2F24"));
    let g = &s.t.security_groups[s.t.vpcs[0].default_security_group.index()];
    assert!(g.declared && g.ingress.len() == 2, "{g:?}");
    let text = vpc_config::to_toml(&s.t);
    assert!(
        text.contains("{ protocol = \"tcp\", port = 22, cidr = \"192.0.2.0/24\" }"),
        "{text}"
    );
    // ICMP: type and code are FromPort and ToPort; every type is -1.
    s.ok(&format!("Action=AuthorizeSecurityGroupIngress&{V}&GroupId={default}&IpPermissions.1.IpProtocol=icmp&IpPermissions.1.FromPort=8&IpPermissions.1.ToPort=-1&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8&IpPermissions.2.IpProtocol=icmp&IpPermissions.2.FromPort=-1&IpPermissions.2.ToPort=-1&IpPermissions.2.IpRanges.1.CidrIp=10.0.0.0%2F8"));
    let body = s.ok(&format!(
        "Action=DescribeSecurityGroups&{V}&GroupId.1={default}"
    ));
    assert!(
        body.contains(
            "<item><ipProtocol>icmp</ipProtocol><fromPort>8</fromPort><toPort>-1</toPort>"
        ),
        "{body}"
    );
    assert!(
        body.contains(
            "<item><ipProtocol>icmp</ipProtocol><fromPort>-1</fromPort><toPort>-1</toPort>"
        ),
        "{body}"
    );
    s.err(&format!("Action=AuthorizeSecurityGroupIngress&{V}&GroupId={default}&IpPermissions.1.IpProtocol=icmp&IpPermissions.1.FromPort=-1&IpPermissions.1.ToPort=3&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8"), 400, "InvalidParameterValue");
    s.err(&format!("Action=AuthorizeSecurityGroupIngress&{V}&GroupId={default}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=2&IpPermissions.1.Ipv6Ranges.1.CidrIpv6=%3A%3A%2F0"), 400, "InvalidParameterValue");
    s.err(&format!("Action=AuthorizeSecurityGroupIngress&{V}&GroupId={default}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=2"), 400, "InvalidParameterValue");
}

#[test]
fn create_security_group_errors() {
    let mut s = with_vpc();
    let vpc = vpc();
    s.ok(&format!(
        "Action=CreateSecurityGroup&{V}&GroupName=web&GroupDescription=x&VpcId={vpc}"
    ));
    s.err(
        &format!("Action=CreateSecurityGroup&{V}&GroupName=web&GroupDescription=x&VpcId={vpc}"),
        400,
        "InvalidGroup.Duplicate",
    );
    s.err(
        &format!("Action=CreateSecurityGroup&{V}&GroupName=default&GroupDescription=x&VpcId={vpc}"),
        400,
        "InvalidGroup.Duplicate",
    );
    s.err(
        &format!("Action=CreateSecurityGroup&{V}&GroupName=web2&VpcId={vpc}"),
        400,
        "MissingParameter",
    );
    s.err(
        &format!("Action=CreateSecurityGroup&{V}&GroupName=web2&GroupDescription=x"),
        400,
        "VPCIdNotSpecified",
    );
    s.err(
        &format!("Action=CreateSecurityGroup&{V}&GroupName=sg-1&GroupDescription=x&VpcId={vpc}"),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!("Action=CreateSecurityGroup&{V}&GroupName=a+b&GroupDescription=x&VpcId={vpc}"),
        400,
        "InvalidParameterValue",
    );
    s.err(&format!("Action=CreateSecurityGroup&{V}&GroupName=c&GroupDescription=x&VpcId=vpc-00000000000000000"), 400, "InvalidVpcID.NotFound");
    s.err(
        &format!("Action=DescribeSecurityGroups&{V}&GroupId.1=sg-00000000000000000"),
        400,
        "InvalidGroup.NotFound",
    );
    s.err(
        &format!("Action=DescribeSecurityGroups&{V}&GroupId.1=nope"),
        400,
        "InvalidGroupId.Malformed",
    );
    s.err(
        &format!(
            "Action=DescribeSecurityGroupRules&{V}&SecurityGroupRuleId.1=sgr-00000000000000000"
        ),
        400,
        "InvalidSecurityGroupRuleId.NotFound",
    );
    // Another account sees nothing.
    let r = s.call_as(
        OTHER_KEY,
        "ec2",
        "us-east-1",
        &format!("Action=DescribeSecurityGroups&{V}"),
    );
    assert!(
        r.body.contains("<securityGroupInfo></securityGroupInfo>"),
        "{}",
        r.body
    );
}

#[test]
fn rule_ids_survive_a_restart_and_a_description_change() {
    let mut s = with_vpc();
    let (vpc, web) = (vpc(), sg("web"));
    s.ok(&format!("Action=CreateSecurityGroup&{V}&GroupName=web&GroupDescription=web+%22servers%22&VpcId={vpc}"));
    let body = s.ok(&format!("Action=AuthorizeSecurityGroupIngress&{V}&GroupId={web}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0&IpPermissions.1.IpRanges.1.Description=https&TagSpecification.1.ResourceType=security-group-rule&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=https"));
    let id = first(&body, "securityGroupRuleId").to_owned();
    assert_eq!(id, sgr("web", "ingress", "tcp/443-443/0.0.0.0/0"));
    assert!(
        body.contains("<tagSet><item><key>Name</key><value>https</value></item></tagSet>"),
        "{body}"
    );
    let rules = s.ok(&format!(
        "Action=DescribeSecurityGroupRules&{V}&SecurityGroupRuleId.1={id}"
    ));
    let groups = s.ok(&format!(
        "Action=DescribeSecurityGroups&{V}&GroupId.1={web}"
    ));
    // Written and read back (a daemon restart): the same answers.
    let text = vpc_config::to_toml(&s.t);
    assert!(
        text.contains("description = \"web \\\"servers\\\"\""),
        "{text}"
    );
    let mut again = Session::new(vpc_config::parse(&text, "back").unwrap());
    let rules2 = again.ok(&format!(
        "Action=DescribeSecurityGroupRules&{V}&SecurityGroupRuleId.1={id}"
    ));
    let groups2 = again.ok(&format!(
        "Action=DescribeSecurityGroups&{V}&GroupId.1={web}"
    ));
    assert_eq!(strip_request_id(&rules), strip_request_id(&rules2));
    assert_eq!(strip_request_id(&groups), strip_request_id(&groups2));
    assert!(
        groups.contains("<groupDescription>web &quot;servers&quot;</groupDescription>"),
        "{groups}"
    );
    // A new description keeps the ID (and the tags); new ports make another rule.
    s.ok(&format!("Action=ModifySecurityGroupRules&{V}&GroupId={web}&SecurityGroupRule.1.SecurityGroupRuleId={id}&SecurityGroupRule.1.SecurityGroupRule.IpProtocol=tcp&SecurityGroupRule.1.SecurityGroupRule.FromPort=443&SecurityGroupRule.1.SecurityGroupRule.ToPort=443&SecurityGroupRule.1.SecurityGroupRule.CidrIpv4=0.0.0.0%2F0&SecurityGroupRule.1.SecurityGroupRule.Description=tls"));
    let body = s.ok(&format!(
        "Action=DescribeSecurityGroupRules&{V}&SecurityGroupRuleId.1={id}"
    ));
    assert!(body.contains("<description>tls</description><tagSet><item><key>Name</key><value>https</value></item></tagSet>"), "{body}");
    s.ok(&format!("Action=ModifySecurityGroupRules&{V}&GroupId={web}&SecurityGroupRule.1.SecurityGroupRuleId={id}&SecurityGroupRule.1.SecurityGroupRule.IpProtocol=tcp&SecurityGroupRule.1.SecurityGroupRule.FromPort=8443&SecurityGroupRule.1.SecurityGroupRule.ToPort=8443&SecurityGroupRule.1.SecurityGroupRule.CidrIpv4=0.0.0.0%2F0"));
    let moved = sgr("web", "ingress", "tcp/8443-8443/0.0.0.0/0");
    let body = s.ok(&format!(
        "Action=DescribeSecurityGroupRules&{V}&Filter.1.Name=tag%3AName&Filter.1.Value.1=https"
    ));
    assert!(
        body.contains(&format!(
            "<securityGroupRuleId>{moved}</securityGroupRuleId>"
        )),
        "{body}"
    );
    assert!(!body.contains("<description>"), "{body}");
    assert!(!s.t.tags.contains_key(&id));
    // Revoked: its tags go too.
    s.ok(&format!(
        "Action=RevokeSecurityGroupIngress&{V}&GroupId={web}&SecurityGroupRuleId.1={moved}"
    ));
    assert!(!s.t.tags.contains_key(&moved));
}

#[test]
fn a_group_used_by_an_instance_cannot_be_deleted() {
    let mut s = Session::demo();
    let (i, g) =
        s.t.security_groups
            .iter()
            .enumerate()
            .find(|(_, g)| g.name == "web-sg")
            .unwrap();
    let id = ids::id(
        Kind::SecurityGroup,
        &format!("{}/{}", s.t.vpc(g.vpc).name, g.name),
    );
    assert_eq!(ids::resolve(&s.t, Kind::SecurityGroup, &id), Some(i));
    let body = s.err(
        &format!("Action=DeleteSecurityGroup&{V}&GroupId={id}"),
        400,
        "DependencyViolation",
    );
    assert!(body.contains("network interface eni-"), "{body}");
}

#[test]
fn terraform_aws_network_acl_lifecycle() {
    let mut s = with_vpc();
    let vpc = vpc();
    let subnet = ids::id(Kind::Subnet, "a");
    let default = acl("default");
    let default_assoc = ids::id(Kind::NetworkAclAssociation, "main/default/a");
    // Every aws_vpc read: the default NACL, allow all, with the subnet.
    let body = s.ok(&format!("Action=DescribeNetworkAcls&{V}&Filter.1.Name=default&Filter.1.Value.1=true&Filter.2.Name=vpc-id&Filter.2.Value.1={vpc}"));
    assert!(body.contains(&format!("<networkAclSet><item><associationSet><item><networkAclAssociationId>{default_assoc}</networkAclAssociationId><networkAclId>{default}</networkAclId><subnetId>{subnet}</subnetId></item></associationSet><entrySet><item><ruleNumber>100</ruleNumber><protocol>-1</protocol><ruleAction>allow</ruleAction><egress>true</egress><cidrBlock>0.0.0.0/0</cidrBlock></item><item><ruleNumber>32767</ruleNumber><protocol>-1</protocol><ruleAction>deny</ruleAction><egress>true</egress><cidrBlock>0.0.0.0/0</cidrBlock></item><item><ruleNumber>100</ruleNumber><protocol>-1</protocol><ruleAction>allow</ruleAction><egress>false</egress><cidrBlock>0.0.0.0/0</cidrBlock></item><item><ruleNumber>32767</ruleNumber><protocol>-1</protocol><ruleAction>deny</ruleAction><egress>false</egress><cidrBlock>0.0.0.0/0</cidrBlock></item></entrySet><default>true</default><networkAclId>{default}</networkAclId><vpcId>{vpc}</vpcId><ownerId>123456789012</ownerId></item></networkAclSet>")), "{body}");
    // CreateNetworkAcl with a client token: named by the token; a retry answers it again.
    let create = format!(
        "Action=CreateNetworkAcl&{V}&ClientToken=tok-1&VpcId={vpc}&TagSpecification.1.ResourceType=network-acl&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=private"
    );
    let body = s.ok(&create);
    let id = first(&body, "networkAclId").to_owned();
    let name = ids::hashed(Kind::NetworkAcl, "acl-token/123456789012/tok-1");
    assert_eq!(id, acl(&name));
    assert!(body.contains(&format!("<networkAcl><associationSet></associationSet><entrySet><item><ruleNumber>32767</ruleNumber><protocol>-1</protocol><ruleAction>deny</ruleAction><egress>true</egress><cidrBlock>0.0.0.0/0</cidrBlock></item><item><ruleNumber>32767</ruleNumber><protocol>-1</protocol><ruleAction>deny</ruleAction><egress>false</egress><cidrBlock>0.0.0.0/0</cidrBlock></item></entrySet><default>false</default><networkAclId>{id}</networkAclId><vpcId>{vpc}</vpcId><ownerId>123456789012</ownerId><tagSet><item><key>Name</key><value>private</value></item></tagSet></networkAcl><clientToken>tok-1</clientToken>")), "{body}");
    let before = s.t.clone();
    let again = s.call(&create);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(first(&again.body, "networkAclId"), id);
    assert_eq!(s.t, before, "a retry changes nothing");
    // Entries: tcp 443 in, all out; AWS's numbers for the protocols.
    s.ok(&format!("Action=CreateNetworkAclEntry&{V}&CidrBlock=0.0.0.0%2F0&Egress=false&NetworkAclId={id}&PortRange.From=443&PortRange.To=443&Protocol=6&RuleAction=allow&RuleNumber=100"));
    s.ok(&format!("Action=CreateNetworkAclEntry&{V}&CidrBlock=10.0.0.0%2F16&Egress=true&NetworkAclId={id}&Protocol=-1&RuleAction=allow&RuleNumber=200"));
    s.err(&format!("Action=CreateNetworkAclEntry&{V}&CidrBlock=10.0.0.0%2F16&Egress=true&NetworkAclId={id}&Protocol=-1&RuleAction=deny&RuleNumber=200"), 400, "NetworkAclEntryAlreadyExists");
    s.err(&format!("Action=CreateNetworkAclEntry&{V}&CidrBlock=10.0.0.0%2F16&Egress=true&NetworkAclId={id}&Protocol=-1&RuleAction=deny&RuleNumber=32767"), 400, "InvalidParameterValue");
    s.ok(&format!("Action=CreateNetworkAclEntry&{V}&CidrBlock=10.0.0.0%2F16&Egress=false&NetworkAclId={id}&Protocol=icmp&Icmp.Type=8&Icmp.Code=-1&RuleAction=allow&RuleNumber=110"));
    s.ok(&format!("Action=ReplaceNetworkAclEntry&{V}&CidrBlock=10.0.0.0%2F8&Egress=true&NetworkAclId={id}&Protocol=17&PortRange.From=53&PortRange.To=53&RuleAction=deny&RuleNumber=200"));
    s.err(&format!("Action=ReplaceNetworkAclEntry&{V}&CidrBlock=10.0.0.0%2F8&Egress=true&NetworkAclId={id}&Protocol=-1&RuleAction=deny&RuleNumber=300"), 400, "InvalidNetworkAclEntry.NotFound");
    s.err(
        &format!("Action=DeleteNetworkAclEntry&{V}&Egress=false&NetworkAclId={id}&RuleNumber=200"),
        400,
        "InvalidNetworkAclEntry.NotFound",
    );
    let body = s.ok(&format!(
        "Action=DescribeNetworkAcls&{V}&NetworkAclId.1={id}"
    ));
    assert!(body.contains("<entrySet><item><ruleNumber>200</ruleNumber><protocol>17</protocol><ruleAction>deny</ruleAction><egress>true</egress><cidrBlock>10.0.0.0/8</cidrBlock><portRange><from>53</from><to>53</to></portRange></item><item><ruleNumber>32767</ruleNumber>"), "{body}");
    assert!(body.contains("<item><ruleNumber>100</ruleNumber><protocol>6</protocol><ruleAction>allow</ruleAction><egress>false</egress><cidrBlock>0.0.0.0/0</cidrBlock><portRange><from>443</from><to>443</to></portRange></item><item><ruleNumber>110</ruleNumber><protocol>1</protocol><ruleAction>allow</ruleAction><egress>false</egress><cidrBlock>10.0.0.0/16</cidrBlock><icmpTypeCode><code>-1</code><type>8</type></icmpTypeCode></item>"), "{body}");
    // aws_network_acl with subnet_ids: the subnet's association moves to it.
    let body = s.ok(&format!("Action=DescribeNetworkAcls&{V}&Filter.1.Name=association.subnet-id&Filter.1.Value.1={subnet}"));
    assert_eq!(first(&body, "networkAclAssociationId"), default_assoc);
    let body = s.ok(&format!(
        "Action=ReplaceNetworkAclAssociation&{V}&AssociationId={default_assoc}&NetworkAclId={id}"
    ));
    let new_assoc = ids::id(Kind::NetworkAclAssociation, &format!("main/{name}/a"));
    assert!(
        body.contains(&format!("<newAssociationId>{new_assoc}</newAssociationId>")),
        "{body}"
    );
    s.err(&format!("Action=ReplaceNetworkAclAssociation&{V}&AssociationId={default_assoc}&NetworkAclId={id}"), 400, "InvalidAssociationID.NotFound");
    let body = s.ok(&format!("Action=DescribeNetworkAcls&{V}&Filter.1.Name=association.association-id&Filter.1.Value.1={new_assoc}"));
    assert_eq!(first(&body, "networkAclId"), id);
    assert!(vpc_config::to_toml(&s.t).contains("subnets = [\"a\"]"));
    // Neither the default nor an associated NACL can go.
    s.err(
        &format!("Action=DeleteNetworkAcl&{V}&NetworkAclId={default}"),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!("Action=DeleteNetworkAcl&{V}&NetworkAclId={id}"),
        400,
        "DependencyViolation",
    );
    // Destroy: back to the default NACL, then delete.
    s.ok(&format!(
        "Action=ReplaceNetworkAclAssociation&{V}&AssociationId={new_assoc}&NetworkAclId={default}"
    ));
    s.ok(&format!(
        "Action=DeleteNetworkAclEntry&{V}&Egress=false&NetworkAclId={id}&RuleNumber=100"
    ));
    let body = s.ok(&format!("Action=DeleteNetworkAcl&{V}&NetworkAclId={id}"));
    assert!(body.contains("<return>true</return>"), "{body}");
    s.err(
        &format!("Action=DescribeNetworkAcls&{V}&NetworkAclId.1={id}"),
        400,
        "InvalidNetworkAclID.NotFound",
    );
    assert!(!s.t.tags.contains_key(&id));
}

#[test]
fn a_deleted_subnet_takes_its_association_with_it() {
    let mut s = with_vpc();
    let vpc = vpc();
    let body = s.ok(&format!("Action=CreateNetworkAcl&{V}&VpcId={vpc}&TagSpecification.1.ResourceType=network-acl&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=private"));
    let id = acl("private");
    assert_eq!(first(&body, "networkAclId"), id);
    let assoc = ids::id(Kind::NetworkAclAssociation, "main/default/a");
    s.ok(&format!(
        "Action=ReplaceNetworkAclAssociation&{V}&AssociationId={assoc}&NetworkAclId={id}"
    ));
    // The default NACL's entries can change too (it becomes written).
    s.ok(&format!(
        "Action=DeleteNetworkAclEntry&{V}&Egress=true&NetworkAclId={}&RuleNumber=100",
        acl("default")
    ));
    assert!(vpc_config::to_toml(&s.t).contains("egress = []"));
    s.ok(&format!(
        "Action=DeleteSubnet&{V}&SubnetId={}",
        ids::id(Kind::Subnet, "a")
    ));
    s.ok(&format!("Action=DeleteNetworkAcl&{V}&NetworkAclId={id}"));
}
