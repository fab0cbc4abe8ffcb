//! Instances, images and network interfaces end to end: signed requests with literal
//! bodies (the AWS CLI's and Terraform's forms of `RunInstances`), the XML answered,
//! and the topology returned, which must read back from its own file unchanged.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vpc_config::Topology;
use vpc_ec2::ids::{self, Kind};
use vpc_ec2::{Api, Credentials, Request, Response, sigv4};

const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const V: &str = "Version=2016-11-15";
const AMI: &str = "ami-0c0ffee0000000001";

const BASE: &str = r#"
[[vpc]]
name = "main"
cidr = "10.0.0.0/16"

[[subnet]]
name = "app"
vpc = "main"
cidr = "10.0.1.0/24"
az = "a"

[[subnet]]
name = "pub"
vpc = "main"
cidr = "10.0.2.0/24"
az = "a"
map_public_ip_on_launch = true

[[instance]]
name = "existing"
subnet = "app"
private_ip = "10.0.1.4"

[[security_group]]
name = "web-sg"
vpc = "main"

[[nat_gateway]]
name = "nat"
subnet = "app"
connectivity = "private"
private_ips = ["10.0.1.5"]
"#;

/// A test session: the API, the topology it changes, and the clock.
struct Session {
    api: Api,
    t: Topology,
    now: SystemTime,
}

impl Session {
    fn new() -> Session {
        let mut c = Credentials::default();
        c.insert(KEY, SECRET, "123456789012");
        Session {
            api: Api::new(c, 7),
            t: vpc_config::parse(BASE, "base").unwrap(),
            now: UNIX_EPOCH + Duration::from_secs(1_765_000_000),
        }
    }

    /// POSTs `body` signed, applies a change; the response and whether it changed.
    fn call(&mut self, body: &str) -> (Response, bool) {
        let mut headers = vec![
            ("Host".to_owned(), "127.0.0.1:4566".to_owned()),
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            ),
        ];
        let added = sigv4::sign(
            "POST",
            "/",
            &headers,
            body.as_bytes(),
            KEY,
            SECRET,
            "us-east-1",
            "ec2",
            self.now,
        );
        headers.extend(added);
        let req = Request {
            method: "POST",
            path_and_query: "/",
            headers: &headers,
            body: body.as_bytes(),
        };
        let (resp, new) = self.api.handle(&req, &self.t, self.now);
        let changed = new.is_some();
        if let Some(new) = new {
            assert_eq!(resp.status, 200);
            let back = vpc_config::parse(&vpc_config::to_toml(&new), "back").unwrap();
            assert_eq!(back, new);
            self.t = new;
        }
        (resp, changed)
    }

    fn ok(&mut self, body: &str) -> String {
        let (r, _) = self.call(body);
        assert_eq!(r.status, 200, "{body}\n{}", r.body);
        r.body
    }

    fn err(&mut self, body: &str, code: &str) -> String {
        let (r, changed) = self.call(body);
        assert_eq!(r.status, 400, "{body}\n{}", r.body);
        assert!(!changed);
        assert!(
            r.body.contains(&format!("<Code>{code}</Code>")),
            "{body}\n{}",
            r.body
        );
        r.body
    }
}

fn first<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    &xml[start..end]
}

fn all<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(s) = rest.find(&open) {
        let after = &rest[s + open.len()..];
        let e = after.find(&close).unwrap();
        out.push(&after[..e]);
        rest = &after[e..];
    }
    out
}

fn subnet(name: &str) -> String {
    ids::id(Kind::Subnet, name)
}

fn sg() -> String {
    ids::id(Kind::SecurityGroup, "main/web-sg")
}

fn name_tag(name: &str) -> String {
    format!(
        "TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value={name}"
    )
}

/// The AWS CLI's form: top-level subnet and groups.
fn run_cli(s: &mut Session, name: &str, extra: &str) -> String {
    s.ok(&format!(
        "Action=RunInstances&{V}&ImageId={AMI}&InstanceType=t3.micro&MinCount=1&MaxCount=1&SubnetId={}&SecurityGroupId.1={}&{}{extra}",
        subnet("app"),
        sg(),
        name_tag(name)
    ))
}

#[test]
fn run_instances_the_cli_way_shows_groups_and_the_first_free_address() {
    let mut s = Session::new();
    let body = run_cli(&mut s, "web", "&KeyName=k1&UserData=aGVsbG8%3D");
    let id = ids::id(Kind::Instance, "web");
    assert!(body.contains("<RunInstancesResponse"), "{body}");
    assert_eq!(first(&body, "instanceId"), id);
    assert!(
        body.contains("<instanceState><code>0</code><name>pending</name></instanceState>"),
        "{body}"
    );
    // .4 is an instance's, .5 the NAT gateway's: .6 is the first free one.
    assert_eq!(first(&body, "privateIpAddress"), "10.0.1.6");
    assert!(
        body.contains(&format!(
            "<groupSet><item><groupId>{}</groupId><groupName>web-sg</groupName></item></groupSet>",
            sg()
        )),
        "{body}"
    );
    assert!(
        body.contains("<privateDnsName>ip-10-0-1-6.ec2.internal</privateDnsName>"),
        "{body}"
    );
    assert!(!body.contains("<ipAddress>"), "{body}");
    // The topology has it, with what it was launched with.
    let inst = s.t.instances.iter().find(|i| i.name == "web").unwrap();
    assert_eq!(inst.launch.image_id.as_deref(), Some(AMI));
    assert_eq!(inst.launch.instance_type.as_deref(), Some("t3.micro"));
    assert_eq!(inst.launch.key_name.as_deref(), Some("k1"));
    assert_eq!(inst.launch.user_data.as_deref(), Some("aGVsbG8="));
    assert_eq!(
        inst.launch.launch_time.as_deref(),
        Some("2025-12-06T05:46:40.000Z")
    );
    // Describe: running, same groups, launch time.
    let body = s.ok(&format!("Action=DescribeInstances&{V}&InstanceId.1={id}"));
    assert!(
        body.contains("<instanceState><code>16</code><name>running</name></instanceState>"),
        "{body}"
    );
    assert!(
        body.contains(&format!("<groupSet><item><groupId>{}</groupId>", sg())),
        "{body}"
    );
    assert!(
        body.contains("<launchTime>2025-12-06T05:46:40.000Z</launchTime>"),
        "{body}"
    );
    assert!(
        body.contains("<availabilityZone>us-east-1a</availabilityZone>"),
        "{body}"
    );
    assert!(body.contains("<keyName>k1</keyName>"), "{body}");
    let body = s.ok(&format!(
        "Action=DescribeInstanceAttribute&{V}&InstanceId={id}&Attribute=userData"
    ));
    assert!(
        body.contains("<userData><value>aGVsbG8=</value></userData>"),
        "{body}"
    );
    let body = s.ok(&format!(
        "Action=DescribeInstanceAttribute&{V}&InstanceId={id}&Attribute=groupSet"
    ));
    assert!(body.contains(&sg()), "{body}");
}

#[test]
fn run_instances_the_terraform_way_shows_groups_and_a_public_address() {
    let mut s = Session::new();
    let body = s.ok(&format!(
        "Action=RunInstances&{V}&ImageId={AMI}&InstanceType=t3.small&MinCount=1&MaxCount=1&ClientToken=terraform-1&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.SubnetId={}&NetworkInterface.1.PrivateIpAddress=10.0.2.20&NetworkInterface.1.SecurityGroupId.1={}&NetworkInterface.1.SecurityGroupId.2={}&{}",
        subnet("pub"),
        sg(),
        ids::id(Kind::SecurityGroup, "main/default"),
        name_tag("tf")
    ));
    let id = ids::id(Kind::Instance, "tf");
    assert_eq!(first(&body, "instanceId"), id);
    let groups = all(first(&body, "groupSet"), "groupId");
    assert_eq!(groups, [sg(), ids::id(Kind::SecurityGroup, "main/default")]);
    assert_eq!(first(&body, "privateIpAddress"), "10.0.2.20");
    // The subnet maps public addresses on launch.
    let public = first(&body, "ipAddress").to_owned();
    assert!(
        public.starts_with("192.0.2.")
            || public.starts_with("198.51.100.")
            || public.starts_with("203.0.113."),
        "{public}"
    );
    let eth0 = s.t.instances.iter().find(|i| i.name == "tf").unwrap().enis[0];
    assert_eq!(s.t.eni(eth0).public_ip.map(|i| i.to_string()), Some(public));
    // Describe shows the groups too (Terraform plans no change).
    let body = s.ok(&format!("Action=DescribeInstances&{V}&InstanceId.1={id}"));
    let instance_groups: Vec<&str> = all(
        body.split("<networkInterfaceSet>").next().unwrap(),
        "groupId",
    );
    assert_eq!(
        instance_groups,
        [sg(), ids::id(Kind::SecurityGroup, "main/default")]
    );
    assert!(
        body.contains("<attachment><attachmentId>eni-attach-"),
        "{body}"
    );
    // AssociatePublicIpAddress=false wins over the subnet.
    let body = s.ok(&format!(
        "Action=RunInstances&{V}&ImageId={AMI}&MinCount=1&MaxCount=1&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.SubnetId={}&NetworkInterface.1.AssociatePublicIpAddress=false",
        subnet("pub")
    ));
    assert!(!body.contains("<ipAddress>"), "{body}");
    // Without groups: the VPC's default group.
    assert_eq!(all(first(&body, "groupSet"), "groupName"), ["default"]);
    // Both forms at once: refused.
    s.err(
        &format!(
            "Action=RunInstances&{V}&ImageId={AMI}&MinCount=1&MaxCount=1&SubnetId={0}&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.SubnetId={0}",
            subnet("app")
        ),
        "InvalidParameterCombination",
    );
}

#[test]
fn the_same_client_token_answers_the_same_reservation() {
    let mut s = Session::new();
    let body = run_cli(&mut s, "web", "&ClientToken=abc");
    let reservation = first(&body, "reservationId").to_owned();
    let before = s.t.clone();
    let (r, changed) = s.call(&format!(
        "Action=RunInstances&{V}&ImageId={AMI}&InstanceType=t3.micro&MinCount=1&MaxCount=1&SubnetId={}&ClientToken=abc",
        subnet("app")
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!changed);
    assert_eq!(s.t, before);
    assert_eq!(first(&r.body, "reservationId"), reservation);
    assert_eq!(first(&r.body, "instanceId"), ids::id(Kind::Instance, "web"));
    // Another token launches another.
    let body = run_cli(&mut s, "web", "&ClientToken=def");
    assert_ne!(first(&body, "reservationId"), reservation);
    assert_eq!(s.t.instances.len(), 3);
}

#[test]
fn addresses_names_and_counts() {
    let mut s = Session::new();
    let body = s.ok(&format!(
        "Action=RunInstances&{V}&ImageId={AMI}&MinCount=1&MaxCount=3&SubnetId={}&ClientToken=many&{}",
        subnet("app"),
        name_tag("w")
    ));
    let ids_: Vec<&str> = all(&body, "instanceId");
    assert_eq!(
        ids_,
        ["w", "w-2", "w-3"].map(|n| ids::id(Kind::Instance, n))
    );
    let ips: Vec<&str> = all(&body, "privateIpAddress")
        .into_iter()
        .step_by(3) // the instance's, its interface's, its address item's
        .collect();
    assert_eq!(ips, ["10.0.1.6", "10.0.1.7", "10.0.1.8"]);
    assert_eq!(all(&body, "reservationId").len(), 1);
    // Every one is tagged Name=w (the tag), named w, w-2, w-3 (the configuration).
    let body = s.ok(&format!(
        "Action=DescribeInstances&{V}&Filter.1.Name=tag:Name&Filter.1.Value.1=w"
    ));
    assert_eq!(all(&body, "instanceId").len(), 3);
    assert_eq!(all(&body, "reservationId").len(), 1);
    // A Name that is taken: the instance ID is the name.
    let body = run_cli(&mut s, "w", "");
    let id = first(&body, "instanceId").to_owned();
    assert!(ids::is_id(Kind::Instance, &id));
    assert!(s.t.instances.iter().any(|i| i.name == id));
    // Written addresses: in use, outside, reserved, with several instances.
    let at = |ip: &str, count: u32| {
        format!(
            "Action=RunInstances&{V}&ImageId={AMI}&MinCount=1&MaxCount={count}&SubnetId={}&PrivateIpAddress={ip}",
            subnet("app")
        )
    };
    s.err(&at("10.0.1.5", 1), "InvalidIPAddress.InUse");
    s.err(&at("10.0.1.6", 1), "InvalidIPAddress.InUse");
    s.err(&at("10.0.9.9", 1), "InvalidParameterValue");
    s.err(&at("10.0.1.1", 1), "InvalidParameterValue");
    s.err(&at("10.0.1.50", 2), "InvalidParameterCombination");
    s.ok(&at("10.0.1.50", 1));
    // Unknown image, type, subnet; no subnet at all.
    s.err(&format!("Action=RunInstances&{V}&ImageId=ami-0000000000000dead&MinCount=1&MaxCount=1&SubnetId={}", subnet("app")), "InvalidAMIID.NotFound");
    s.err(&format!("Action=RunInstances&{V}&ImageId={AMI}&InstanceType=z9.huge&MinCount=1&MaxCount=1&SubnetId={}", subnet("app")), "InvalidParameterValue");
    s.err(&format!("Action=RunInstances&{V}&ImageId={AMI}&MinCount=1&MaxCount=1&SubnetId=subnet-0000000000000dead"), "InvalidSubnetID.NotFound");
    s.err(
        &format!("Action=RunInstances&{V}&ImageId={AMI}&MinCount=1&MaxCount=1"),
        "VPCIdNotSpecified",
    );
}

#[test]
fn a_full_subnet_refuses_more_than_it_has() {
    let mut s = Session::new();
    s.t = vpc_config::parse(
        &format!("{BASE}\n[[subnet]]\nname = \"tiny\"\nvpc = \"main\"\ncidr = \"10.0.3.0/28\"\naz = \"a\"\n"),
        "t",
    )
    .unwrap();
    // A /28 has 16 - 5 = 11 assignable addresses.
    let run = |min: u32, max: u32| {
        format!(
            "Action=RunInstances&{V}&ImageId={AMI}&MinCount={min}&MaxCount={max}&SubnetId={}",
            subnet("tiny")
        )
    };
    s.err(&run(12, 12), "InsufficientFreeAddressesInSubnet");
    let body = s.ok(&run(1, 12));
    assert_eq!(all(&body, "instanceId").len(), 11);
    s.err(&run(1, 1), "InsufficientFreeAddressesInSubnet");
}

#[test]
fn describe_filters_and_pages() {
    let mut s = Session::new();
    for n in ["a", "b", "c", "d", "e", "f"] {
        run_cli(&mut s, n, &format!("&ClientToken=t-{n}"));
    }
    // existing + 6.
    let body = s.ok(&format!("Action=DescribeInstances&{V}"));
    assert_eq!(all(&body, "instanceId").len(), 7);
    let body = s.ok(&format!("Action=DescribeInstances&{V}&MaxResults=5"));
    assert_eq!(all(&body, "reservationId").len(), 5);
    let token = first(&body, "nextToken").to_owned();
    let body = s.ok(&format!(
        "Action=DescribeInstances&{V}&MaxResults=5&NextToken={token}"
    ));
    assert_eq!(all(&body, "reservationId").len(), 2);
    assert!(!body.contains("<nextToken>"), "{body}");
    s.err(
        &format!(
            "Action=DescribeInstances&{V}&MaxResults=5&InstanceId.1={}",
            ids::id(Kind::Instance, "a")
        ),
        "InvalidParameterCombination",
    );
    let filter = |name: &str, value: &str| {
        format!("Action=DescribeInstances&{V}&Filter.1.Name={name}&Filter.1.Value.1={value}")
    };
    let vpc = ids::id(Kind::Vpc, "main");
    let b = ids::id(Kind::Instance, "b");
    for (name, value, n) in [
        ("instance-state-name", "running", 7),
        ("instance-state-name", "terminated", 0),
        ("vpc-id", vpc.as_str(), 7),
        ("subnet-id", &subnet("app"), 7),
        ("tag:Name", "[a-c]", 0),
        ("tag:Name", "?", 6),
        ("tag-key", "Name", 7),
        ("private-ip-address", "10.0.1.7", 1),
        ("instance-id", b.as_str(), 1),
        ("instance-type", "t3.micro", 7),
        ("instance.group-id", &sg(), 6),
        (
            "network-interface.network-interface-id",
            &ids::id(Kind::NetworkInterface, "c/eth0"),
            1,
        ),
    ] {
        let body = s.ok(&filter(name, value));
        assert_eq!(all(&body, "instanceId").len(), n, "{name}={value}\n{body}");
    }
    s.err(&filter("color", "x"), "InvalidParameterValue");
    s.err(
        &format!("Action=DescribeInstances&{V}&InstanceId.1=i-0000000000000dead"),
        "InvalidInstanceID.NotFound",
    );
}

#[test]
fn termination_protection_then_terminated_for_an_hour() {
    let mut s = Session::new();
    run_cli(&mut s, "web", "&DisableApiTermination=true&ClientToken=x");
    let id = ids::id(Kind::Instance, "web");
    let body = s.ok(&format!(
        "Action=DescribeInstanceAttribute&{V}&InstanceId={id}&Attribute=disableApiTermination"
    ));
    assert!(
        body.contains("<disableApiTermination><value>true</value></disableApiTermination>"),
        "{body}"
    );
    s.err(
        &format!("Action=TerminateInstances&{V}&InstanceId.1={id}"),
        "OperationNotPermitted",
    );
    assert!(s.t.instances.iter().any(|i| i.name == "web"));
    s.ok(&format!(
        "Action=ModifyInstanceAttribute&{V}&InstanceId={id}&DisableApiTermination.Value=false"
    ));
    let body = s.ok(&format!(
        "Action=DescribeInstanceAttribute&{V}&InstanceId={id}&Attribute=disableApiTermination"
    ));
    assert!(body.contains("<value>false</value>"), "{body}");
    // A route and an Elastic IP that name it go with it.
    let body = s.ok(&format!("Action=TerminateInstances&{V}&InstanceId.1={id}"));
    assert!(body.contains(&format!("<instancesSet><item><instanceId>{id}</instanceId><currentState><code>32</code><name>shutting-down</name></currentState><previousState><code>16</code><name>running</name></previousState></item></instancesSet>")), "{body}");
    assert!(!s.t.instances.iter().any(|i| i.name == "web"));
    assert_eq!(s.t.terminated_instances.len(), 1);
    assert_eq!(s.t.terminated_instances[0].name, "web");
    // Terminated for an hour, by ID and by filter; the instance tags stay.
    let body = s.ok(&format!("Action=DescribeInstances&{V}&InstanceId.1={id}"));
    assert!(
        body.contains("<instanceState><code>48</code><name>terminated</name></instanceState>"),
        "{body}"
    );
    assert!(body.contains("<key>Name</key><value>web</value>"), "{body}");
    assert!(!body.contains("<privateIpAddress>"), "{body}");
    let body = s.ok(&format!(
        "Action=DescribeInstances&{V}&Filter.1.Name=instance-state-name&Filter.1.Value.1=terminated"
    ));
    assert_eq!(all(&body, "instanceId"), [id.as_str()]);
    let body = s.ok(&format!("Action=TerminateInstances&{V}&InstanceId.1={id}"));
    assert!(body.contains("<currentState><code>48</code><name>terminated</name></currentState><previousState><code>48</code>"), "{body}");
    // The running instance's status is ok; the terminated one only with IncludeAllInstances.
    let body = s.ok(&format!("Action=DescribeInstanceStatus&{V}"));
    assert_eq!(all(&body, "instanceId").len(), 1);
    assert!(
        body.contains("<instanceStatus><status>ok</status>"),
        "{body}"
    );
    let body = s.ok(&format!(
        "Action=DescribeInstanceStatus&{V}&IncludeAllInstances=true"
    ));
    assert_eq!(all(&body, "instanceId").len(), 2);
    // A new instance named web gets an ID of its own.
    let body = run_cli(&mut s, "web", "&ClientToken=y");
    assert_ne!(first(&body, "instanceId"), id);
    // Two hours later it is gone, and the next launch forgets it.
    s.now += Duration::from_secs(7200);
    s.err(
        &format!("Action=DescribeInstances&{V}&InstanceId.1={id}"),
        "InvalidInstanceID.NotFound",
    );
    run_cli(&mut s, "later", "&ClientToken=z");
    assert!(s.t.terminated_instances.is_empty());
    assert!(!s.t.tags.contains_key(&id));
}

#[test]
fn terminating_removes_what_names_the_instance() {
    let mut s = Session::new();
    s.t = vpc_config::parse(
        &format!("{BASE}\n[[internet_gateway]]\nname = \"igw\"\nvpc = \"main\"\n\n[[elastic_ip]]\naddress = \"198.51.100.10\"\ninstance = \"existing\"\n\n[[route_table]]\nname = \"rt\"\nvpc = \"main\"\nroute = [{{ destination = \"0.0.0.0/0\", instance = \"existing\" }}]\n"),
        "t",
    )
    .unwrap();
    let id = ids::id(Kind::Instance, "existing");
    s.ok(&format!("Action=TerminateInstances&{V}&InstanceId.1={id}"));
    assert!(s.t.instances.is_empty());
    assert!(s.t.elastic_ips[0].association.is_none());
    let rt = s.t.route_tables.iter().find(|r| r.name == "rt").unwrap();
    assert_eq!(rt.routes.len(), 1); // local only
}

#[test]
fn modify_attributes_and_interfaces() {
    let mut s = Session::new();
    run_cli(&mut s, "web", "");
    let id = ids::id(Kind::Instance, "web");
    let eni = ids::id(Kind::NetworkInterface, "web/eth0");
    s.ok(&format!(
        "Action=ModifyInstanceAttribute&{V}&InstanceId={id}&SourceDestCheck.Value=false"
    ));
    let body = s.ok(&format!(
        "Action=DescribeInstanceAttribute&{V}&InstanceId={id}&Attribute=sourceDestCheck"
    ));
    assert!(
        body.contains("<sourceDestCheck><value>false</value></sourceDestCheck>"),
        "{body}"
    );
    s.ok(&format!("Action=ModifyNetworkInterfaceAttribute&{V}&NetworkInterfaceId={eni}&SourceDestCheck.Value=true"));
    let default = ids::id(Kind::SecurityGroup, "main/default");
    s.ok(&format!(
        "Action=ModifyInstanceAttribute&{V}&InstanceId={id}&GroupId.1={default}"
    ));
    let body = s.ok(&format!(
        "Action=DescribeNetworkInterfaces&{V}&Filter.1.Name=attachment.instance-id&Filter.1.Value.1={id}"
    ));
    assert_eq!(first(&body, "networkInterfaceId"), eni);
    assert!(
        body.contains("<sourceDestCheck>true</sourceDestCheck>"),
        "{body}"
    );
    assert_eq!(all(first(&body, "groupSet"), "groupId"), [default.as_str()]);
    s.ok(&format!(
        "Action=ModifyNetworkInterfaceAttribute&{V}&NetworkInterfaceId={eni}&SecurityGroupId.1={}",
        sg()
    ));
    for (name, value, n) in [
        ("vpc-id", ids::id(Kind::Vpc, "main"), 2),
        ("group-id", sg(), 1),
        ("subnet-id", subnet("app"), 2),
        ("addresses.private-ip-address", "10.0.1.6".to_owned(), 1),
        ("network-interface-id", eni.clone(), 1),
    ] {
        let body = s.ok(&format!(
            "Action=DescribeNetworkInterfaces&{V}&Filter.1.Name={name}&Filter.1.Value.1={value}"
        ));
        assert_eq!(all(&body, "networkInterfaceId").len(), n, "{name}\n{body}");
    }
    s.err(
        &format!("Action=ModifyInstanceAttribute&{V}&InstanceId={id}&InstanceType.Value=t3.large"),
        "IncorrectInstanceState",
    );
    // Volumes and credits.
    let body = s.ok(&format!(
        "Action=DescribeVolumes&{V}&Filter.1.Name=attachment.instance-id&Filter.1.Value.1={id}"
    ));
    let vol = first(&body, "volumeId").to_owned();
    assert!(vol.starts_with("vol-") && vol.len() == 21, "{vol}");
    let again = s.ok(&format!("Action=DescribeVolumes&{V}&VolumeId.1={vol}"));
    assert_eq!(first(&again, "instanceId"), id);
    let body = s.ok(&format!(
        "Action=DescribeInstanceCreditSpecifications&{V}&InstanceId.1={id}"
    ));
    assert!(
        body.contains("<cpuCredits>unlimited</cpuCredits>"),
        "{body}"
    );
}

#[test]
fn images_types_and_uefi() {
    let mut s = Session::new();
    let body = s.ok(&format!(
        "Action=DescribeImages&{V}&Owner.1=amazon&Filter.1.Name=name&Filter.1.Value.1=vpcd-linux-*&Filter.2.Name=architecture&Filter.2.Value.1=x86_64&Filter.3.Name=virtualization-type&Filter.3.Value.1=hvm&Filter.4.Name=root-device-type&Filter.4.Value.1=ebs"
    ));
    assert_eq!(all(&body, "imageId"), [AMI]);
    assert!(
        body.contains("<imageOwnerAlias>amazon</imageOwnerAlias>"),
        "{body}"
    );
    let body = s.ok(&format!("Action=DescribeImages&{V}&Owner.1=self"));
    assert_eq!(all(&body, "imageId").len(), 2);
    let body = s.ok(&format!("Action=DescribeImages&{V}&Owner.1=099720109477&Filter.1.Name=name&Filter.1.Value.1=ubuntu/images/*"));
    assert_eq!(all(&body, "imageId").len(), 1);
    s.err(
        &format!("Action=GetInstanceUefiData&{V}&InstanceId={AMI}"),
        "InvalidInstanceID.NotFound",
    );
    let body = s.ok(&format!(
        "Action=DescribeInstanceTypes&{V}&InstanceType.1=t3.micro"
    ));
    assert!(body.contains("<defaultVCpus>2</defaultVCpus>"), "{body}");
    assert!(body.contains("<sizeInMiB>1024</sizeInMiB>"), "{body}");
    let body = s.ok(&format!(
        "Action=DescribeInstanceTypes&{V}&Filter.1.Name=instance-type&Filter.1.Value.1=t2.*"
    ));
    assert_eq!(all(&body, "instanceType").len(), 3);
    s.err(
        &format!("Action=DescribeInstanceTypes&{V}&InstanceType.1=z9.huge"),
        "InvalidInstanceType",
    );
}

#[test]
fn launch_keys_round_trip_through_the_file() {
    let mut s = Session::new();
    run_cli(
        &mut s,
        "web",
        "&ClientToken=rt&KeyName=k&UserData=aGk%3D&InstanceInitiatedShutdownBehavior=terminate&DisableApiStop=true",
    );
    let text = vpc_config::to_toml(&s.t);
    assert!(
        text.contains("instance_initiated_shutdown_behavior = \"terminate\""),
        "{text}"
    );
    assert!(text.contains("disable_api_stop = true"), "{text}");
    let back = vpc_config::parse(&text, "state").unwrap();
    assert_eq!(back, s.t);
    let id = ids::id(Kind::Instance, "web");
    s.ok(&format!(
        "Action=ModifyInstanceAttribute&{V}&InstanceId={id}&DisableApiStop.Value=false"
    ));
    s.ok(&format!("Action=TerminateInstances&{V}&InstanceId.1={id}"));
    let text = vpc_config::to_toml(&s.t);
    assert!(
        text.contains("[[terminated_instance]]\nname = \"web\"\naz = \"a\"\nimage_id"),
        "{text}"
    );
    assert_eq!(vpc_config::parse(&text, "state").unwrap(), s.t);
}
