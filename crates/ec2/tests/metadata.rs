//! Instance metadata options over the EC2 API: `RunInstances`' `MetadataOptions.*`
//! kept in the instance's configuration, `DescribeInstances`' `metadataOptions`, and
//! `ModifyInstanceMetadataOptions` (the answer, the change, the refusals).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;
use vpc_config::{HttpEndpoint, HttpTokens};

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

[[instance]]
name = "web"
subnet = "app"
private_ip = "10.0.1.4"
"#;

fn session() -> Session {
    Session::new(vpc_config::parse(BASE, "base").unwrap())
}

fn web_id() -> String {
    ids::id(Kind::Instance, "web")
}

#[test]
fn describe_shows_the_defaults_applied() {
    let mut s = session();
    let body = s.ok(&format!(
        "Action=DescribeInstances&{V}&InstanceId.1={}",
        web_id()
    ));
    assert_eq!(
        first(&body, "metadataOptions"),
        "<state>applied</state><httpTokens>optional</httpTokens><httpPutResponseHopLimit>1</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags>"
    );
}

#[test]
fn run_instances_keeps_metadata_options() {
    let mut s = session();
    let subnet = ids::id(Kind::Subnet, "app");
    s.ok(&format!(
        "Action=RunInstances&{V}&ImageId={AMI}&MinCount=1&MaxCount=1&SubnetId={subnet}&MetadataOptions.HttpTokens=required&MetadataOptions.HttpPutResponseHopLimit=2&MetadataOptions.HttpEndpoint=enabled&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=app"
    ));
    let app = s.t.instances.iter().find(|i| i.name == "app").unwrap();
    let o = app.launch.metadata_options;
    assert_eq!(o.http_tokens, HttpTokens::Required);
    assert_eq!(o.http_put_response_hop_limit, 2);
    assert_eq!(o.http_endpoint, HttpEndpoint::Enabled);
    let body = s.ok(&format!(
        "Action=DescribeInstances&{V}&InstanceId.1={}",
        ids::id(Kind::Instance, "app")
    ));
    let m = first(&body, "metadataOptions");
    assert!(m.contains("<httpTokens>required</httpTokens>"), "{m}");
    assert!(
        m.contains("<httpPutResponseHopLimit>2</httpPutResponseHopLimit>"),
        "{m}"
    );
    // The configuration says so.
    assert!(vpc_config::to_toml(&s.t).contains(
        "metadata_options = { http_tokens = \"required\", http_put_response_hop_limit = 2 }"
    ));
}

#[test]
fn run_instances_refuses_bad_options() {
    let mut s = session();
    let subnet = ids::id(Kind::Subnet, "app");
    let run = |extra: &str| {
        format!(
            "Action=RunInstances&{V}&ImageId={AMI}&MinCount=1&MaxCount=1&SubnetId={subnet}&{extra}"
        )
    };
    s.err(
        &run("MetadataOptions.HttpTokens=always"),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &run("MetadataOptions.HttpPutResponseHopLimit=65"),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &run("MetadataOptions.HttpProtocolIpv6=enabled"),
        400,
        "InvalidParameterValue",
    );
    assert_eq!(s.t.instances.len(), 1);
}

#[test]
fn modify_instance_metadata_options() {
    let mut s = session();
    let id = web_id();
    let body = s.ok(&format!(
        "Action=ModifyInstanceMetadataOptions&{V}&InstanceId={id}&HttpTokens=required&HttpPutResponseHopLimit=3"
    ));
    assert_eq!(first(&body, "instanceId"), id);
    assert_eq!(
        first(&body, "instanceMetadataOptions"),
        "<state>pending</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>3</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags>"
    );
    let o = s.t.instances[0].launch.metadata_options;
    assert_eq!(
        (
            o.http_tokens,
            o.http_put_response_hop_limit,
            o.http_endpoint
        ),
        (HttpTokens::Required, 3, HttpEndpoint::Enabled)
    );
    // Only what is given changes.
    s.ok(&format!(
        "Action=ModifyInstanceMetadataOptions&{V}&InstanceId={id}&HttpEndpoint=disabled"
    ));
    let o = s.t.instances[0].launch.metadata_options;
    assert_eq!(
        (
            o.http_tokens,
            o.http_put_response_hop_limit,
            o.http_endpoint
        ),
        (HttpTokens::Required, 3, HttpEndpoint::Disabled)
    );
    let body = s.ok(&format!("Action=DescribeInstances&{V}&InstanceId.1={id}"));
    assert!(
        first(&body, "metadataOptions")
            .starts_with("<state>applied</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>3</httpPutResponseHopLimit><httpEndpoint>disabled</httpEndpoint>")
    );
}

#[test]
fn describe_instances_filters_by_metadata_options() {
    let mut s = Session::new(
        vpc_config::parse(
            &format!(
                "{BASE}\n[[instance]]\nname = \"db\"\nsubnet = \"app\"\nprivate_ip = \"10.0.1.20\"\nmetadata_options = {{ http_tokens = \"required\", http_put_response_hop_limit = 2 }}\n"
            ),
            "base",
        )
        .unwrap(),
    );
    let ids_of = |s: &mut Session, filter: &str, value: &str| {
        let body = s.ok(&format!(
            "Action=DescribeInstances&{V}&Filter.1.Name={filter}&Filter.1.Value.1={value}"
        ));
        count(&body, "<instanceId>")
    };
    assert_eq!(
        ids_of(&mut s, "metadata-options.http-tokens", "required"),
        1
    );
    assert_eq!(
        ids_of(&mut s, "metadata-options.http-tokens", "optional"),
        1
    );
    assert_eq!(
        ids_of(&mut s, "metadata-options.http-put-response-hop-limit", "2"),
        1
    );
    assert_eq!(
        ids_of(&mut s, "metadata-options.http-put-response-hop-limit", "3"),
        0
    );
    assert_eq!(
        ids_of(&mut s, "metadata-options.http-endpoint", "enabled"),
        2
    );
    assert_eq!(ids_of(&mut s, "metadata-options.state", "applied"), 2);
    let body = s.ok(&format!(
        "Action=DescribeInstances&{V}&Filter.1.Name=metadata-options.http-tokens&Filter.1.Value.1=required"
    ));
    assert!(body.contains(&format!(
        "<instanceId>{}</instanceId>",
        ids::id(Kind::Instance, "db")
    )));
}

#[test]
fn modify_refuses_bad_values_and_unknown_instances() {
    let mut s = session();
    let id = web_id();
    s.err(
        &format!(
            "Action=ModifyInstanceMetadataOptions&{V}&InstanceId={id}&HttpPutResponseHopLimit=0"
        ),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!("Action=ModifyInstanceMetadataOptions&{V}&InstanceId={id}&HttpEndpoint=off"),
        400,
        "InvalidParameterValue",
    );
    s.err(
        &format!("Action=ModifyInstanceMetadataOptions&{V}&InstanceId=i-0123456789abcdef0&HttpTokens=required"),
        400,
        "InvalidInstanceID.NotFound",
    );
    s.err(
        &format!("Action=ModifyInstanceMetadataOptions&{V}&HttpTokens=required"),
        400,
        "MissingParameter",
    );
    assert_eq!(
        s.t.instances[0].launch.metadata_options,
        vpc_config::MetadataOptions::default()
    );
}

#[test]
fn user_data_attribute_is_the_kept_base64() {
    let mut s = Session::new(
        vpc_config::parse(
            &format!("{BASE}user_data = \"IyEvYmluL3NoCmVjaG8gaGk=\"\n"),
            "base",
        )
        .unwrap(),
    );
    let body = s.ok(&format!(
        "Action=DescribeInstanceAttribute&{V}&InstanceId={}&Attribute=userData",
        web_id()
    ));
    assert_eq!(
        first(&body, "userData"),
        "<value>IyEvYmluL3NoCmVjaG8gaGk=</value>"
    );
}
