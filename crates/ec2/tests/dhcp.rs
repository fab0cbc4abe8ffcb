//! DHCP option sets through the EC2 API: create, describe with filters, associate
//! (and `default`), the VPC's `dhcpOptionsId`, delete refused while associated.

mod common;
use common::*;

const NET: &str = r#"
[[vpc]]
name = "main"
cidr = "10.0.0.0/16"
owner_id = "123456789012"
"#;

#[test]
fn create_describe_associate_and_delete() {
    let mut s = Session::new(vpc_config::parse(NET, "net").unwrap());
    let vpc = ids::id(Kind::Vpc, "main");
    // A new VPC shows `default`.
    let body = s.ok(&format!("Action=DescribeVpcs&{V}&VpcId.1={vpc}"));
    assert_eq!(first(&body, "dhcpOptionsId"), "default");

    let body = s.ok(&format!(
        "Action=CreateDhcpOptions&{V}\
         &DhcpConfiguration.1.Key=domain-name&DhcpConfiguration.1.Value.1=corp.example\
         &DhcpConfiguration.2.Key=domain-name-servers&DhcpConfiguration.2.Value.1=AmazonProvidedDNS\
         &DhcpConfiguration.2.Value.2=10.0.0.53\
         &TagSpecification.1.ResourceType=dhcp-options&TagSpecification.1.Tag.1.Key=Name\
         &TagSpecification.1.Tag.1.Value=corp"
    ));
    let dopt = ids::id(Kind::DhcpOptions, "corp");
    assert!(dopt.starts_with("dopt-") && dopt.len() == 22, "{dopt}");
    assert_eq!(first(&body, "dhcpOptionsId"), dopt);
    assert!(
        body.contains(
            "<item><key>domain-name-servers</key><valueSet><item><value>AmazonProvidedDNS</value></item><item><value>10.0.0.53</value></item></valueSet></item>"
        ),
        "{body}"
    );
    assert_eq!(first(&body, "ownerId"), "123456789012");
    let o = &s.t.dhcp_options[0];
    assert_eq!(o.name, "corp");
    assert_eq!(o.domain_name.as_deref(), Some("corp.example"));

    // A second set, then filters.
    s.ok(&format!(
        "Action=CreateDhcpOptions&{V}&DhcpConfiguration.1.Key=ntp-servers&DhcpConfiguration.1.Value.1=10.0.0.123\
         &TagSpecification.1.ResourceType=dhcp-options&TagSpecification.1.Tag.1.Key=Name\
         &TagSpecification.1.Tag.1.Value=ntp"
    ));
    let body = s.ok(&format!("Action=DescribeDhcpOptions&{V}"));
    assert_eq!(count(&body, "<dhcpOptionsId>"), 2);
    for (filter, value, n) in [
        ("key", "ntp-servers", 1),
        ("value", "corp.example", 1),
        ("dhcp-options-id", dopt.as_str(), 1),
        ("tag:Name", "ntp", 1),
        ("key", "netbios-node-type", 0),
    ] {
        let body = s.ok(&format!(
            "Action=DescribeDhcpOptions&{V}&Filter.1.Name={filter}&Filter.1.Value.1={value}"
        ));
        assert_eq!(
            count(&body, "<dhcpOptionsId>"),
            n,
            "{filter}={value}\n{body}"
        );
    }

    // Associate: the VPC shows it, and the set cannot be deleted.
    s.ok(&format!(
        "Action=AssociateDhcpOptions&{V}&DhcpOptionsId={dopt}&VpcId={vpc}"
    ));
    assert_eq!(s.t.vpcs[0].dhcp_options, Some(vpc_config::DhcpOptionsId(0)));
    let body = s.ok(&format!("Action=DescribeVpcs&{V}&VpcId.1={vpc}"));
    assert_eq!(first(&body, "dhcpOptionsId"), dopt);
    let body = s.ok(&format!(
        "Action=DescribeVpcs&{V}&Filter.1.Name=dhcp-options-id&Filter.1.Value.1={dopt}"
    ));
    assert_eq!(count(&body, "<vpcId>"), 1);
    s.err(
        &format!("Action=DeleteDhcpOptions&{V}&DhcpOptionsId={dopt}"),
        400,
        "DependencyViolation",
    );

    // `default` leaves the VPC without a set; then the set can go.
    s.ok(&format!(
        "Action=AssociateDhcpOptions&{V}&DhcpOptionsId=default&VpcId={vpc}"
    ));
    assert_eq!(s.t.vpcs[0].dhcp_options, None);
    s.ok(&format!(
        "Action=DeleteDhcpOptions&{V}&DhcpOptionsId={dopt}"
    ));
    assert_eq!(s.t.dhcp_options.len(), 1);
    assert!(!s.t.tags.contains_key(&dopt));
    s.err(
        &format!("Action=DeleteDhcpOptions&{V}&DhcpOptionsId={dopt}"),
        400,
        "InvalidDhcpOptionID.NotFound",
    );
}

#[test]
fn bad_option_sets_are_refused() {
    let mut s = Session::new(vpc_config::parse(NET, "net").unwrap());
    s.err(
        &format!("Action=CreateDhcpOptions&{V}"),
        400,
        "MissingParameter",
    );
    s.err(
        &format!(
            "Action=CreateDhcpOptions&{V}&DhcpConfiguration.1.Key=colour&DhcpConfiguration.1.Value.1=red"
        ),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!(
            "Action=CreateDhcpOptions&{V}&DhcpConfiguration.1.Key=netbios-node-type&DhcpConfiguration.1.Value.1=3"
        ),
        400,
        "InvalidParameterValue",
    );
    let five: String = (1..=5)
        .map(|i| format!("&DhcpConfiguration.1.Value.{i}=10.0.0.{i}"))
        .collect();
    s.err(
        &format!("Action=CreateDhcpOptions&{V}&DhcpConfiguration.1.Key=ntp-servers{five}"),
        400,
        "InvalidParameterValue",
    );
    assert!(s.t.dhcp_options.is_empty());
    let vpc = ids::id(Kind::Vpc, "main");
    s.err(
        &format!(
            "Action=AssociateDhcpOptions&{V}&DhcpOptionsId=dopt-0123456789abcdef0&VpcId={vpc}"
        ),
        400,
        "InvalidDhcpOptionID.NotFound",
    );
}
